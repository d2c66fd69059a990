// The feed's side of MoldUDP64 retransmission: one kernel UDP socket that
// sends request packets to the configured re-request servers and reads their
// unicast replies. Replies take the kernel path, beside the AF_XDP sockets,
// on purpose: they are rare and small, the socket is read only while the
// sequencer awaits a reply (no system call on the feed's path otherwise), and
// the kernel already resolves the server's address for the requests. A reply
// from any other sender is counted and dropped. Worker thread only, after
// construction (which throws naming the key at fault).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <span>
#include <vector>

#include "config.h"
#include "shm/clock.h"

namespace fh::daemon {

struct RerequestCounters {
  uint64_t replies = 0;      // datagrams from a configured server
  uint64_t wrongSender = 0;  // datagrams from anyone else
  uint64_t truncated = 0;    // larger than the receive buffer
};

class RerequestSocket {
 public:
  explicit RerequestSocket(const Feed& feed);
  ~RerequestSocket();
  RerequestSocket(const RerequestSocket&) = delete;
  RerequestSocket& operator=(const RerequestSocket&) = delete;

  // Sends one request packet to server `server`; false if the kernel refused it.
  bool request(uint32_t server, std::span<const uint8_t> packet) noexcept;

  // Hands each reply's payload to onReply(std::span<const uint8_t>, uint64_t recvNs).
  template <class OnReply>
  uint32_t receive(OnReply&& onReply);

  int fd() const noexcept { return fd_; }
  uint16_t localPort() const noexcept { return localPort_; }
  const RerequestCounters& counters() const noexcept { return counters_; }

 private:
  static constexpr uint32_t kBatch = 16;
  static constexpr size_t kBufferBytes = 65536 / 8;  // a reply fills at most an MTU; jumbo frames fit
  int fd_ = -1;
  uint16_t localPort_ = 0;
  std::vector<sockaddr_in> servers_;
  std::vector<uint8_t> buffers_;
  std::vector<mmsghdr> messages_;
  std::vector<iovec> iovecs_;
  std::vector<sockaddr_in> senders_;
  RerequestCounters counters_;
};

template <class OnReply>
uint32_t RerequestSocket::receive(OnReply&& onReply) {
  const int n = ::recvmmsg(fd_, messages_.data(), kBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) return 0;
  const uint64_t now = shm::realtimeNs();
  for (int i = 0; i < n; ++i) {
    mmsghdr& m = messages_[i];
    const sockaddr_in& from = senders_[i];
    m.msg_hdr.msg_namelen = sizeof(sockaddr_in);
    bool known = false;
    for (const sockaddr_in& s : servers_)
      known = known || (s.sin_addr.s_addr == from.sin_addr.s_addr && s.sin_port == from.sin_port);
    if (!known) {
      ++counters_.wrongSender;
      continue;
    }
    if (m.msg_hdr.msg_flags & MSG_TRUNC) {
      ++counters_.truncated;
      continue;
    }
    ++counters_.replies;
    onReply(std::span<const uint8_t>(buffers_.data() + size_t(i) * kBufferBytes, m.msg_len), now);
  }
  return uint32_t(n);
}

}  // namespace fh::daemon
