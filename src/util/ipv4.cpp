// IPv4 addresses and networks (see ipv4.hpp).
#include <kurator/util/ipv4.hpp>

#include <regex>

namespace kurator::net {

std::optional<uint32_t> parse_ipv4(const std::string& s) {
  static const std::regex re(
      R"((0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2})\.(0|[1-9][0-9]{0,2}))");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return std::nullopt;
  uint32_t v = 0;
  for (int i = 1; i <= 4; ++i) {
    int octet = std::stoi(m[i].str());
    if (octet > 255) return std::nullopt;
    v = (v << 8) | static_cast<uint32_t>(octet);
  }
  return v;
}

std::string ipv4_text(uint32_t v) {
  return std::to_string(v >> 24) + "." + std::to_string((v >> 16) & 255) + "." + std::to_string((v >> 8) & 255) +
         "." + std::to_string(v & 255);
}

}  // namespace kurator::net
