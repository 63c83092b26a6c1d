#pragma once

/// Inputs as `replay` and `run` set them up from the configuration, so both read and register
/// them the same way.

#include <string>

#include "connectors/file_source.h"
#include "pipeline/config.h"
#include "pipeline/runtime.h"

namespace tw::app {

/// `input` with a relative file path resolved against the folder of the configuration file at
/// `config_path`, so that a configuration and its data can move together. Other inputs are
/// returned unchanged.
pipeline::InputConfig resolve_input_path(pipeline::InputConfig input,
                                         const std::string& config_path);

/// How to read a file or standard-input `input` under the configuration's size limits.
connectors::FileSourceOptions file_source_options(const pipeline::InputConfig& input,
                                                  const pipeline::Settings& settings);

/// Registers `input` — or one Kafka partition of it, under `name` — with the runtime: with its
/// lateness when it is known before the first record (set explicitly, or by the configured
/// format; for `auto` the runtime decides on the first record), and with its account and Region,
/// defaulting to the settings'.
pipeline::InputId add_runtime_input(pipeline::Runtime& runtime, const pipeline::Config& config,
                                    const pipeline::InputConfig& input, std::string name);

}  // namespace tw::app
