// Standard base64 (RFC 4648, with padding), as Kubernetes uses for *-data fields and Secret data.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace kurator::base64 {

std::string encode(std::string_view data);
// Strict decoding like Go's base64.StdEncoding: padding required, CR and LF ignored, any other
// character outside the alphabet (including spaces) is an error. nullopt when invalid.
std::optional<std::string> decode(std::string_view text);

}  // namespace kurator::base64
