#include "pipeline/json_pointer.h"

namespace tw::pipeline {

std::string json_pointer_child(std::string_view parent, std::string_view key) {
  std::string pointer(parent);
  pointer.reserve(parent.size() + key.size() + 1);
  pointer += '/';
  for (const char c : key) {
    if (c == '~') {
      pointer += "~0";
    } else if (c == '/') {
      pointer += "~1";
    } else {
      pointer += c;
    }
  }
  return pointer;
}

std::string json_pointer_child(std::string_view parent, size_t index) {
  std::string pointer(parent);
  pointer += '/';
  pointer += std::to_string(index);
  return pointer;
}

}  // namespace tw::pipeline
