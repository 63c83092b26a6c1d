#include "connectors/kafka_properties.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#include "connectors/process_environment.h"

namespace tw::connectors {

using pipeline::Result;

namespace {

// Larger than any key or token file; a bigger file is a wrong path (a log, a binary), and reading
// it whole into a configuration value would only hide that.
constexpr size_t kMaxSecretFileBytes = 1 << 20;

bool contains_ignoring_case(std::string_view text, std::string_view part) {
  const auto* const it =
      std::search(text.begin(), text.end(), part.begin(), part.end(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      });
  return it != text.end();
}

bool is_env_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front())) != 0) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
  });
}

std::string prefix(std::string_view property, std::string_view reference) {
  return "property '" + std::string(property) + "': " + std::string(reference);
}

Result<std::string> read_env(std::string_view property, std::string_view reference,
                             std::string_view name) {
  if (!is_env_name(name)) {
    return pipeline::invalid_argument(prefix(property, reference) +
                                      " is not a valid environment variable name");
  }
  std::optional<std::string> value = process_environment(name);
  if (!value) {
    return pipeline::not_found(prefix(property, reference) + ": environment variable " +
                               std::string(name) + " is not set");
  }
  return std::move(*value);
}

Result<std::string> read_file(std::string_view property, std::string_view reference,
                              std::string_view path) {
  if (path.empty()) {
    return pipeline::invalid_argument(prefix(property, reference) + " names no file");
  }
  std::ifstream in{std::string(path), std::ios::binary};
  if (!in) {
    const int error = errno;
    return pipeline::not_found(prefix(property, reference) + ": cannot read the file (" +
                               std::strerror(error) + ")");  // NOLINT(concurrency-mt-unsafe)
  }
  std::string content;
  std::array<char, 4096> chunk{};
  while (in) {
    in.read(chunk.data(), chunk.size());
    content.append(chunk.data(), static_cast<size_t>(in.gcount()));
    if (content.size() > kMaxSecretFileBytes) {
      return pipeline::out_of_range(prefix(property, reference) +
                                    ": the file is larger than 1 MiB");
    }
  }
  if (in.bad()) {
    return pipeline::not_found(prefix(property, reference) + ": error while reading the file");
  }
  // Secret files are usually written with `echo` or an editor, which add a final newline that is
  // never part of the secret.
  while (!content.empty() && (content.back() == '\n' || content.back() == '\r')) {
    content.pop_back();
  }
  return content;
}

// Replaces every reference in `value`. Sets `*had_reference` when at least one was found.
Result<std::string> resolve_value(std::string_view property, std::string_view value,
                                  bool* had_reference) {
  std::string out;
  out.reserve(value.size());
  size_t pos = 0;
  while (pos < value.size()) {
    const size_t start = value.find('$', pos);
    if (start == std::string_view::npos) {
      out.append(value.substr(pos));
      break;
    }
    out.append(value.substr(pos, start - pos));
    const std::string_view rest = value.substr(start);
    if (rest.starts_with("$${")) {
      out.append("${");
      pos = start + 3;
      continue;
    }
    if (!rest.starts_with("${")) {
      out.push_back('$');
      pos = start + 1;
      continue;
    }
    const size_t end = rest.find('}');
    if (end == std::string_view::npos) {
      return pipeline::invalid_argument("property '" + std::string(property) +
                                        "': unterminated reference '${' (write $${ for a literal)");
    }
    const std::string_view reference = rest.substr(0, end + 1);
    const std::string_view body = reference.substr(2, reference.size() - 3);
    const size_t colon = body.find(':');
    const std::string_view scheme = body.substr(0, colon);
    const std::string_view argument =
        colon == std::string_view::npos ? std::string_view() : body.substr(colon + 1);
    Result<std::string> secret = std::string();
    if (colon != std::string_view::npos && scheme == "env") {
      secret = read_env(property, reference, argument);
    } else if (colon != std::string_view::npos && scheme == "file") {
      secret = read_file(property, reference, argument);
    } else {
      return pipeline::invalid_argument(
          prefix(property, reference) +
          " is not a reference: use ${env:NAME} or ${file:/path} (or $${ for a literal)");
    }
    if (!secret.is_ok()) {
      return secret.status();
    }
    out.append(secret.value());
    *had_reference = true;
    pos = start + reference.size();
  }
  return out;
}

}  // namespace

Result<std::string> resolve_references(std::string_view name, std::string_view value) {
  bool had_reference = false;
  return resolve_value(name, value, &had_reference);
}

KafkaProperties::KafkaProperties(
    std::initializer_list<std::pair<std::string, std::string>> entries) {
  for (const auto& [name, value] : entries) {
    set(name, value);
  }
}

void KafkaProperties::set(std::string_view name, std::string value) {
  for (Entry& entry : entries_) {
    if (entry.name == name) {
      entry.value = std::move(value);
      entry.from_reference = false;
      return;
    }
  }
  entries_.push_back({std::string(name), std::move(value), false});
}

bool KafkaProperties::set_default(std::string_view name, std::string value) {
  if (contains(name)) {
    return false;
  }
  entries_.push_back({std::string(name), std::move(value), false});
  return true;
}

bool KafkaProperties::erase(std::string_view name) {
  return std::erase_if(entries_, [&](const Entry& entry) { return entry.name == name; }) > 0;
}

const std::string* KafkaProperties::find(std::string_view name) const {
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const Entry& entry) { return entry.name == name; });
  return it == entries_.end() ? nullptr : &it->value;
}

Result<KafkaProperties> KafkaProperties::resolve() const {
  KafkaProperties resolved;
  resolved.entries_.reserve(entries_.size());
  for (const Entry& entry : entries_) {
    if (entry.from_reference) {
      resolved.entries_.push_back(entry);
      continue;
    }
    bool had_reference = false;
    Result<std::string> value = resolve_value(entry.name, entry.value, &had_reference);
    if (!value.is_ok()) {
      return value.status();
    }
    resolved.entries_.push_back({entry.name, std::move(value).value(), had_reference});
  }
  return resolved;
}

bool KafkaProperties::is_sensitive_name(std::string_view name) {
  static constexpr std::array<std::string_view, 5> kParts = {"password", "secret", "token",
                                                             "sasl.jaas", "ssl.key"};
  return std::any_of(kParts.begin(), kParts.end(),
                     [&](std::string_view part) { return contains_ignoring_case(name, part); });
}

bool KafkaProperties::is_sensitive(const Entry& entry) {
  return entry.from_reference || is_sensitive_name(entry.name);
}

KafkaProperties KafkaProperties::redacted() const {
  KafkaProperties copy = *this;
  for (Entry& entry : copy.entries_) {
    if (is_sensitive(entry)) {
      entry.value = kRedacted;
    }
  }
  return copy;
}

std::string KafkaProperties::to_redacted_string() const {
  std::string out;
  for (const Entry& entry : redacted().entries_) {
    if (!out.empty()) {
      out += ", ";
    }
    out += entry.name;
    out += '=';
    out += entry.value;
  }
  return out;
}

}  // namespace tw::connectors
