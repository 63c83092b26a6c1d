#pragma once

/// Small helpers shared by the simdjson-based decoders (metric_decoder.cc, cloudtrail.cc).
/// Private to tw::pipeline: it includes simdjson, which the public headers do not expose.

#include <simdjson.h>

#include <string_view>

namespace tw::pipeline {

/// "an array", "an object", "a number", "a string", "a boolean" or "null", for messages such
/// as "expected a string, got a number".
constexpr std::string_view describe_json_type(simdjson::ondemand::json_type type) {
  switch (type) {
    case simdjson::ondemand::json_type::array:
      return "an array";
    case simdjson::ondemand::json_type::object:
      return "an object";
    case simdjson::ondemand::json_type::number:
      return "a number";
    case simdjson::ondemand::json_type::string:
      return "a string";
    case simdjson::ondemand::json_type::boolean:
      return "a boolean";
    case simdjson::ondemand::json_type::null:
      return "null";
  }
  return "an unknown value";
}

}  // namespace tw::pipeline
