#include "app/output_lines.h"

#include <nlohmann/json.hpp>

namespace tw::app {

std::string format_dead_letter_line(const pipeline::DeadLetter& letter) {
  nlohmann::ordered_json line;
  line["input"] = letter.input;
  line["source"] = letter.source;
  line["position"] = letter.position;
  line["reason"] = pipeline::to_string(letter.reason);
  line["detail"] = letter.detail;
  line["record"] = letter.record;
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tw::app
