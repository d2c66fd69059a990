#include "rerequest.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace fh::daemon {

RerequestSocket::RerequestSocket(const Feed& feed) {
  const std::string key = "feed.retransmission";
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::runtime_error(key + ": cannot create a UDP socket: " + std::strerror(errno));
  sockaddr_in local{};
  local.sin_family = AF_INET;
  local.sin_addr.s_addr = htonl(INADDR_ANY);
  local.sin_port = htons(feed.rerequestPort);
  socklen_t length = sizeof local;
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &length) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error(key + ".port: cannot bind UDP port " + std::to_string(feed.rerequestPort) + ": " + why);
  }
  localPort_ = ntohs(local.sin_port);
  // A burst of replies must not be dropped while the worker is busy.
  const int bytes = 4 << 20;
  if (::setsockopt(fd_, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  for (const Endpoint& e : feed.rerequestServers) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(e.address);
    a.sin_port = htons(e.port);
    servers_.push_back(a);
  }
  buffers_.resize(size_t{kBatch} * kBufferBytes);
  messages_.resize(kBatch);
  iovecs_.resize(kBatch);
  senders_.resize(kBatch);
  for (uint32_t i = 0; i < kBatch; ++i) {
    iovecs_[i] = {buffers_.data() + size_t{i} * kBufferBytes, kBufferBytes};
    messages_[i].msg_hdr.msg_iov = &iovecs_[i];
    messages_[i].msg_hdr.msg_iovlen = 1;
    messages_[i].msg_hdr.msg_name = &senders_[i];
    messages_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
  }
}

RerequestSocket::~RerequestSocket() { ::close(fd_); }

bool RerequestSocket::request(uint32_t server, std::span<const uint8_t> packet) noexcept {
  if (server >= servers_.size()) return false;
  const sockaddr_in& to = servers_[server];
  return ::sendto(fd_, packet.data(), packet.size(), MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&to), sizeof to) ==
         static_cast<ssize_t>(packet.size());
}

}  // namespace fh::daemon
