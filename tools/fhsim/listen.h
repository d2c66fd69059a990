// The address an fhsim server listens on: "ADDRESS:PORT" in the test
// network's ranges only (198.18.0.0/15, or loopback).
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <optional>
#include <stdexcept>
#include <string>

#include "util/endpoint.h"

namespace fh::sim {

// Throws std::invalid_argument naming `option` when `text` is not such an address.
inline sockaddr_in parseListen(const std::string& option, const std::string& text) {
  const std::optional<Endpoint> e = parseEndpoint(text);
  if (!e) throw std::invalid_argument(option + " " + text + ": not ADDRESS:PORT (port 1 to 65535)");
  if ((e->address >> 17) != ((198u << 24 | 18u << 16) >> 17) && (e->address >> 24) != 127)
    throw std::invalid_argument(option + " " + text + ": refused: the address must be in 198.18.0.0/15 or 127.0.0.0/8");
  sockaddr_in s{};
  s.sin_family = AF_INET;
  s.sin_addr.s_addr = htonl(e->address);
  s.sin_port = htons(e->port);
  return s;
}

}  // namespace fh::sim
