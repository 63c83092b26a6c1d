#pragma once

/// The process environment, read one way everywhere (secret references, AWS settings).

#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace tw::connectors {

/// The value of environment variable `name`, or nullopt when it is not set.
inline std::optional<std::string> process_environment(std::string_view name) {
  // NOLINTNEXTLINE(concurrency-mt-unsafe): trailwatch never calls setenv once threads run.
  const char* value = std::getenv(std::string(name).c_str());
  return value == nullptr ? std::nullopt : std::optional<std::string>(value);
}

}  // namespace tw::connectors
