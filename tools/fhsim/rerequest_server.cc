#include "rerequest_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "listen.h"
#include "mold/moldudp64.h"
#include "util/bytes.h"

namespace fh::sim {

namespace {

uint64_t monotonicNs() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1'000'000'000 + uint64_t(ts.tv_nsec);
}

}  // namespace

RerequestServer::RerequestServer(const RerequestOptions& options, const std::string& session, uint64_t firstSequence,
                                 uint32_t payloadBytes)
    : options_(options), firstSequence_(firstSequence), payloadBytes_(payloadBytes) {
  for (size_t i = 0; i < sizeof session_; ++i) session_[i] = i < session.size() ? session[i] : ' ';
  const sockaddr_in local = parseListen("--rerequest-listen", options.listen);
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    throw std::runtime_error("--rerequest-listen: cannot create a UDP socket: " + std::string(std::strerror(errno)));
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd_);
    throw std::runtime_error("--rerequest-listen " + options.listen + ": cannot bind: " + why);
  }
  tokens_ = options.rate;
  lastRefillNs_ = monotonicNs();
  offsets_.reserve(1 << 16);
  blocks_.reserve(1 << 22);
  thread_ = std::thread([this] { serve(); });
}

RerequestServer::~RerequestServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

void RerequestServer::record(std::span<const uint8_t> blocks, uint16_t count) {
  const std::lock_guard lock(mutex_);
  const size_t base = blocks_.size();
  blocks_.insert(blocks_.end(), blocks.begin(), blocks.end());
  size_t at = 0;
  for (uint16_t i = 0; i < count && at + 2 <= blocks.size(); ++i) {
    offsets_.push_back(base + at);
    at += 2 + loadBe16(blocks.data() + at);
  }
}

void RerequestServer::finish() {
  std::this_thread::sleep_for(std::chrono::milliseconds(options_.lingerMs));
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

RerequestSummary RerequestServer::summary() const {
  const std::lock_guard lock(mutex_);
  return summary_;
}

void RerequestServer::serve() {
  uint8_t request[64];
  while (!stop_.load(std::memory_order_relaxed)) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    sockaddr_in from{};
    socklen_t fromLength = sizeof from;
    const ssize_t n =
        ::recvfrom(fd_, request, sizeof request, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fromLength);
    if (n < 0) continue;
    answer(request, size_t(n), &from, fromLength);
  }
}

void RerequestServer::answer(const uint8_t* request, size_t length, const void* from, unsigned fromLength) {
  std::vector<uint8_t> reply;
  {
    const std::lock_guard lock(mutex_);
    if (length != mold::kHeaderLength) {
      ++summary_.malformed;
      return;
    }
    const mold::PacketHeader h = mold::readHeader(request);
    if (std::memcmp(h.session.data(), session_, sizeof session_) != 0) {
      ++summary_.wrongSession;
      return;
    }
    if (h.count == 0 || h.count == mold::kEndOfSessionCount || h.sequence < firstSequence_) {
      ++summary_.malformed;
      return;
    }
    ++summary_.requests;
    if (options_.stopAfter && summary_.answered >= *options_.stopAfter) {
      ++summary_.stopped;
      return;
    }
    if (h.sequence < options_.forgetBefore) {
      ++summary_.forgotten;
      return;
    }
    const uint64_t index = h.sequence - firstSequence_;
    if (index >= offsets_.size()) {
      ++summary_.beyondEnd;
      return;
    }
    if (options_.rate > 0) {
      const uint64_t now = monotonicNs();
      tokens_ = std::min<double>(options_.rate, tokens_ + double(now - lastRefillNs_) * 1e-9 * options_.rate);
      lastRefillNs_ = now;
      if (tokens_ < 1) {
        ++summary_.rateLimited;
        return;
      }
      tokens_ -= 1;
    }
    reply.resize(payloadBytes_);
    mold::PacketBuilder b(reply, std::string_view(session_, sizeof session_), h.sequence);
    const uint64_t want = std::min<uint64_t>({h.count, options_.maxMessages, offsets_.size() - index});
    for (uint64_t i = index; i < index + want; ++i) {
      const uint8_t* block = blocks_.data() + offsets_[i];
      if (!b.add({block + 2, loadBe16(block)})) break;
    }
    summary_.messagesResent += b.count();
    ++summary_.answered;
    reply.resize(b.finish().size());
  }
  ::sendto(fd_, reply.data(), reply.size(), 0, static_cast<const sockaddr*>(from), fromLength);
}

}  // namespace fh::sim
