#pragma once

/// Output lines shared by `replay` and `run`.

#include <string>

#include "pipeline/runtime.h"

namespace tw::app {

/// A dead letter as one JSON line: {"input","source","position","reason","detail","record"}.
/// Invalid UTF-8 in the record (it may be why it was dropped) is replaced, never thrown on.
std::string format_dead_letter_line(const pipeline::DeadLetter& letter);

}  // namespace tw::app
