#include "app/inputs.h"

#include <filesystem>

namespace tw::app {

pipeline::InputConfig resolve_input_path(pipeline::InputConfig input,
                                         const std::string& config_path) {
  if (input.type == pipeline::InputConfig::Type::kFile &&
      std::filesystem::path(input.path).is_relative()) {
    input.path =
        (std::filesystem::path(config_path).parent_path() / input.path).lexically_normal().string();
  }
  return input;
}

connectors::FileSourceOptions file_source_options(const pipeline::InputConfig& input,
                                                  const pipeline::Settings& settings) {
  connectors::FileSourceOptions options;
  options.path = input.type == pipeline::InputConfig::Type::kStdin ? "-" : input.path;
  options.format = input.format;
  options.max_record_bytes = settings.max_record_bytes;
  options.max_file_bytes = settings.max_file_bytes;
  return options;
}

pipeline::InputId add_runtime_input(pipeline::Runtime& runtime, const pipeline::Config& config,
                                    const pipeline::InputConfig& input, std::string name) {
  std::optional<pipeline::Duration> lateness = input.allowed_lateness;
  if (!lateness && input.format != pipeline::InputFormat::kAuto) {
    lateness = config.lateness_for(input, input.format);
  }
  const pipeline::Settings& settings = config.settings;
  return runtime.add_input(std::move(name), lateness,
                           input.account_id.empty() ? settings.account_id : input.account_id,
                           input.region.empty() ? settings.region : input.region);
}

}  // namespace tw::app
