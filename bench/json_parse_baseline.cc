// json_parse_baseline: how fast simdjson alone parses a JSON-lines file — the physical limit of a
// JSON-fed engine, against which the end-to-end replay throughput is compared.
//
//   json_parse_baseline FILE [REPEATS]
//
// Loads FILE into memory once, then, REPEATS times (default 3, best run reported), parses every
// line with simdjson On-Demand and visits every value of the document (every key, string, number
// and literal), which is the least a decoder that reads whole records must do. A second pass uses
// the DOM parser (full validation, tape construction). Prints lines/s and MB/s for both.

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

// NOLINTBEGIN(cppcoreguidelines-macro-usage): stringifying a macro needs a macro.
#define TW_STRINGIFY_INNER(x) #x
#define TW_STRINGIFY(x) TW_STRINGIFY_INNER(x)

// NOLINTEND(cppcoreguidelines-macro-usage)

namespace {

namespace od = simdjson::ondemand;

// Visits every value below `value`; returns a count that the optimiser cannot drop.
uint64_t visit(od::value value) {
  od::json_type type{};
  if (value.type().get(type) != simdjson::SUCCESS) {
    return 0;
  }
  uint64_t n = 1;
  switch (type) {
    case od::json_type::object: {
      od::object obj;
      if (value.get_object().get(obj) != simdjson::SUCCESS) {
        return 0;
      }
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) {
          return 0;
        }
        n += key.size() + visit(field.value());
      }
      break;
    }
    case od::json_type::array: {
      od::array arr;
      if (value.get_array().get(arr) != simdjson::SUCCESS) {
        return 0;
      }
      for (auto element : arr) {
        od::value v;
        if (element.get(v)) {
          return 0;
        }
        n += visit(v);
      }
      break;
    }
    case od::json_type::number: {
      double d = 0;
      n += value.get_double().get(d) ? 0 : static_cast<uint64_t>(d != 0);
      break;
    }
    case od::json_type::string: {
      std::string_view s;
      n += value.get_string().get(s) ? 0 : s.size();
      break;
    }
    case od::json_type::boolean: {
      bool b = false;
      n += value.get_bool().get(b) ? 0 : static_cast<uint64_t>(b);
      break;
    }
    case od::json_type::null:
      break;
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: json_parse_baseline FILE [REPEATS]\n";
    return 2;
  }
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
  const std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::cerr << "cannot open " << argv[1] << "\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string content = text.str();
  std::vector<char> data(content.size() + simdjson::SIMDJSON_PADDING);
  std::copy(content.begin(), content.end(), data.begin());
  std::vector<std::string_view> lines;
  size_t begin = 0;
  while (begin < content.size()) {
    size_t end = content.find('\n', begin);
    if (end == std::string::npos) {
      end = content.size();
    }
    if (end > begin) {
      lines.emplace_back(data.data() + begin, end - begin);
    }
    begin = end + 1;
  }
  const double megabytes = static_cast<double>(content.size()) / 1e6;

  od::parser ondemand;
  simdjson::dom::parser dom;
  double best_ondemand = 1e30;
  double best_dom = 1e30;
  uint64_t checksum = 0;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (const std::string_view line : lines) {
      od::document doc;
      if (ondemand.iterate(line.data(), line.size(), line.size() + simdjson::SIMDJSON_PADDING)
              .get(doc) != simdjson::SUCCESS) {
        continue;
      }
      od::value root;
      if (doc.get_value().get(root) == simdjson::SUCCESS) {
        checksum += visit(root);
      }
    }
    auto t1 = std::chrono::steady_clock::now();
    best_ondemand = std::min(best_ondemand, std::chrono::duration<double>(t1 - t0).count());
    t0 = std::chrono::steady_clock::now();
    for (const std::string_view line : lines) {
      simdjson::dom::element root;
      if (dom.parse(line.data(), line.size(), false).get(root) == simdjson::SUCCESS) {
        checksum += root.is_object() ? 1 : 0;
      }
    }
    t1 = std::chrono::steady_clock::now();
    best_dom = std::min(best_dom, std::chrono::duration<double>(t1 - t0).count());
  }
  const auto n = static_cast<double>(lines.size());
  // On-Demand is compiled into this program, so its kernel is the one this translation unit was
  // built for (SIMDJSON_BUILTIN_IMPLEMENTATION); the DOM parser dispatches at run time.
  std::printf("file: %s, %zu lines, %.1f MB, On-Demand kernel %s, DOM kernel %s\n", argv[1],
              lines.size(), megabytes, TW_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION),
              simdjson::get_active_implementation()->name().c_str());
  std::printf("ondemand_visit_all: %.3f s, %.0f lines/s, %.0f MB/s\n", best_ondemand,
              n / best_ondemand, megabytes / best_ondemand);
  std::printf("dom_parse:          %.3f s, %.0f lines/s, %.0f MB/s\n", best_dom, n / best_dom,
              megabytes / best_dom);
  std::fprintf(stderr, "checksum %llu\n", static_cast<unsigned long long>(checksum));
  return 0;
}
