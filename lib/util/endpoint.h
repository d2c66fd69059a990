// "ADDRESS:PORT" (dotted IPv4, port 1..65535), as configuration files and
// command lines name a re-request server, a feed's line in a capture, or a
// listening address. Host byte order. Control plane.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <optional>
#include <string>

namespace fh {

struct Endpoint {
  uint32_t address = 0;  // IPv4, host byte order
  uint16_t port = 0;
};

// nullopt when `text` is not ADDRESS:PORT.
inline std::optional<Endpoint> parseEndpoint(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  in_addr a{};
  if (::inet_pton(AF_INET, text.substr(0, colon).c_str(), &a) != 1) return std::nullopt;
  const std::string port = text.substr(colon + 1);
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const unsigned long p = std::stoul(port);
  if (p < 1 || p > 65535) return std::nullopt;
  return Endpoint{ntohl(a.s_addr), static_cast<uint16_t>(p)};
}

}  // namespace fh
