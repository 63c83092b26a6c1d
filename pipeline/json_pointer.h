#pragma once

/// JSON pointers (RFC 6901) for the messages that name where in a document something is wrong:
/// configuration problems and dead-letter details use the same spelling.

#include <cstddef>
#include <string>
#include <string_view>

namespace tw::pipeline {

/// `parent/key`, with `~` and `/` in `key` escaped as `~0` and `~1`.
std::string json_pointer_child(std::string_view parent, std::string_view key);

/// `parent/index`.
std::string json_pointer_child(std::string_view parent, size_t index);

}  // namespace tw::pipeline
