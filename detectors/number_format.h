#pragma once

/// Number and time formatting in CloudWatch's own style, so that reason texts and payloads match
/// what existing tooling parses.

#include <string>

namespace tw::detectors {

/// Java's Double.toString, which CloudWatch uses in reason texts and reason data: the shortest
/// decimal that reads back as the same double, always with a fraction ("70.0", "21.5",
/// "99.50160229693434"), in scientific notation below 10^-3 and from 10^7 on ("1.0E7",
/// "1.25E-4"); "NaN", "Infinity", "-Infinity".
std::string java_double(double value);

}  // namespace tw::detectors
