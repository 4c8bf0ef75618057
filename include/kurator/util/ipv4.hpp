// IPv4 addresses and networks as the config checks of the vms and aws providers read them.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace kurator::net {

// "a.b.c.d" with each octet 0-255 written without leading zeros; nullopt otherwise.
std::optional<uint32_t> parse_ipv4(const std::string& s);
// The dotted form of an address.
std::string ipv4_text(uint32_t v);

// A network a.b.c.d/prefix.
struct Cidr {
  uint32_t base = 0;
  int prefix = 0;
  uint32_t mask() const { return prefix == 0 ? 0 : ~uint32_t(0) << (32 - prefix); }
  // True when the two networks share an address.
  bool overlaps(const Cidr& o) const {
    const int p = prefix < o.prefix ? prefix : o.prefix;
    const uint32_t wider = p == 0 ? 0 : ~uint32_t(0) << (32 - p);
    return (base & wider) == (o.base & wider);
  }
};

}  // namespace kurator::net
