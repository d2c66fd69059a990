#include "glimpse_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "glimpse/glimpse.h"
#include "listen.h"
#include "shm/clock.h"
#include "soup/soupbintcp.h"
#include "util/bytes.h"

namespace fh::sim {

namespace {

int64_t monotonicMs() { return int64_t(shm::clockNs(CLOCK_MONOTONIC) / 1'000'000); }

void storeBe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (24 - 8 * i));
}

void appendBlock(std::vector<uint8_t>& blocks, const uint8_t* msg, size_t length) {
  blocks.push_back(uint8_t(length >> 8));
  blocks.push_back(uint8_t(length));
  blocks.insert(blocks.end(), msg, msg + length);
}

}  // namespace

// The ITCH 5.0 layouts used here: header type(1) locate(2) tracking(2)
// timestamp(6); A/F ref@11 side@19 shares@20 stock@24 price@32 (MPID@36);
// E and C ref@11 shares@19; X ref@11 shares@19; D ref@11; U old@11 new@19
// shares@27 price@31.
void DayState::apply(const uint8_t* msg, uint16_t length) {
  if (length < 11) return;
  const uint16_t locate = loadBe16(msg + 1);
  const auto keep = [&](std::unordered_map<uint16_t, std::vector<uint8_t>>& by, size_t size) {
    if (length == size) by[locate].assign(msg, msg + length);
  };
  const auto reduce = [&](uint64_t ref, uint32_t shares) {
    const auto it = orders_.find(ref);
    if (it == orders_.end()) return;
    const uint32_t open = loadBe32(it->second.add + 20);
    if (shares >= open)
      orders_.erase(it);
    else
      storeBe32(it->second.add + 20, open - shares);
  };
  switch (msg[0]) {
    case 'S':
      if (length == 12) systemEvent_.assign(msg, msg + length);
      break;
    case 'R':
      keep(directory_, 39);
      break;
    case 'H':
      keep(trading_, 25);
      break;
    case 'Y':
      keep(regSho_, 20);
      break;
    case 'A':
    case 'F':
      if (length == (msg[0] == 'A' ? 36 : 40)) {
        Order& o = orders_[loadBe64(msg + 11)];
        std::memcpy(o.add, msg, length);
        o.length = uint8_t(length);
      }
      break;
    case 'E':
      if (length == 31) reduce(loadBe64(msg + 11), loadBe32(msg + 19));
      break;
    case 'C':
      if (length == 36) reduce(loadBe64(msg + 11), loadBe32(msg + 19));
      break;
    case 'X':
      if (length == 23) reduce(loadBe64(msg + 11), loadBe32(msg + 19));
      break;
    case 'D':
      if (length == 19) orders_.erase(loadBe64(msg + 11));
      break;
    case 'U': {
      if (length != 35) break;
      const auto it = orders_.find(loadBe64(msg + 11));
      if (it == orders_.end()) break;
      Order replaced{};
      std::memcpy(replaced.add, it->second.add, 36);  // locate, side and stock stay
      replaced.add[0] = 'A';
      replaced.length = 36;
      std::memcpy(replaced.add + 3, msg + 3, 8);    // tracking and timestamp of the replace
      std::memcpy(replaced.add + 11, msg + 19, 8);  // the new reference
      std::memcpy(replaced.add + 20, msg + 27, 4);  // shares
      std::memcpy(replaced.add + 32, msg + 31, 4);  // price
      orders_.erase(it);
      orders_[loadBe64(msg + 19)] = replaced;
      break;
    }
    default:
      break;
  }
}

void DayState::snapshot(std::vector<uint8_t>& blocks, uint64_t& orders) const {
  if (!systemEvent_.empty()) appendBlock(blocks, systemEvent_.data(), systemEvent_.size());
  for (const auto* by : {&directory_, &trading_, &regSho_}) {
    std::vector<uint16_t> locates;
    for (const auto& [locate, msg] : *by) locates.push_back(locate);
    std::sort(locates.begin(), locates.end());
    for (uint16_t l : locates) {
      const std::vector<uint8_t>& msg = by->at(l);
      appendBlock(blocks, msg.data(), msg.size());
    }
  }
  std::vector<uint64_t> refs;
  refs.reserve(orders_.size());
  for (const auto& [ref, o] : orders_) refs.push_back(ref);
  std::sort(refs.begin(), refs.end());
  for (uint64_t ref : refs) {
    const Order& o = orders_.at(ref);
    appendBlock(blocks, o.add, o.length);
  }
  orders = refs.size();
}

GlimpseServer::GlimpseServer(const GlimpseOptions& options, const std::string& session)
    : options_(options), session_(session) {
  const sockaddr_in local = parseListen("--glimpse-listen", options.listen);
  listenFd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listenFd_ < 0)
    throw std::runtime_error("--glimpse-listen: cannot create a TCP socket: " + std::string(std::strerror(errno)));
  const int one = 1;
  ::setsockopt(listenFd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(listenFd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0 || ::listen(listenFd_, 4) != 0) {
    const std::string why = std::strerror(errno);
    ::close(listenFd_);
    throw std::runtime_error("--glimpse-listen " + options.listen + ": cannot listen: " + why);
  }
  thread_ = std::thread([this] { serve(); });
}

GlimpseServer::~GlimpseServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  ::close(listenFd_);
}

void GlimpseServer::record(std::span<const uint8_t> blocks, uint16_t count, uint64_t next) {
  const std::lock_guard lock(mutex_);
  size_t at = 0;
  for (uint16_t i = 0; i < count && at + 2 <= blocks.size(); ++i) {
    const uint16_t length = loadBe16(blocks.data() + at);
    if (at + 2 + length > blocks.size()) break;
    state_.apply(blocks.data() + at + 2, length);
    at += 2 + length;
  }
  next_ = next;
}

void GlimpseServer::finish() {
  std::this_thread::sleep_for(std::chrono::milliseconds(options_.lingerMs));
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

GlimpseSummary GlimpseServer::summary() const {
  const std::lock_guard lock(mutex_);
  return summary_;
}

void GlimpseServer::serve() {
  while (!stop_.load(std::memory_order_relaxed)) {
    pollfd p{listenFd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    const int fd = ::accept4(listenFd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    session(fd);
    ::close(fd);
  }
}

// One client: login, the snapshot, then heartbeats until it leaves.
void GlimpseServer::session(int fd) {
  soup::Reader reader;
  int64_t lastReceived = monotonicMs(), lastSent = lastReceived;
  bool gone = false;
  // Reads what the client sent, without waiting longer than `waitMs`.
  const auto receive = [&](int waitMs, auto&& onPacket) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, waitMs) <= 0) return;
    uint8_t buffer[4096];
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      gone = true;
      return;
    }
    if (n < 0) return;
    lastReceived = monotonicMs();
    reader.add({buffer, size_t(n)});
    soup::Packet packet{};
    for (;;) {
      const auto status = reader.next(packet);
      if (status == soup::Reader::Status::NeedMore) break;
      if (status == soup::Reader::Status::Malformed) {
        gone = true;
        const std::lock_guard lock(mutex_);
        ++summary_.dropped;
        break;
      }
      onPacket(packet);
    }
  };
  // Sends all of `bytes`, giving up if the client stops reading for 15 s or fhsim stops.
  const auto send = [&](std::span<const uint8_t> bytes) {
    size_t at = 0;
    const int64_t start = monotonicMs();
    while (at < bytes.size() && !gone && !stop_) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, 100) <= 0) {
        if (monotonicMs() - start > soup::kSilenceTimeoutMs) gone = true;
        continue;
      }
      const ssize_t n = ::send(fd, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && errno != EAGAIN && errno != EINTR) gone = true;
      if (n > 0) at += size_t(n);
    }
    lastSent = monotonicMs();
  };

  // The login request, within 15 s.
  std::optional<soup::LoginRequest> login;
  bool malformedLogin = false;
  while (!login && !gone && !stop_ && !malformedLogin) {
    receive(100, [&](const soup::Packet& packet) {
      if (login || malformedLogin) return;
      if (packet.type != soup::type::kLoginRequest || !(login = soup::parseLoginRequest(packet.payload)))
        malformedLogin = true;
    });
    if (monotonicMs() - lastReceived > soup::kSilenceTimeoutMs) gone = true;
  }
  if (!login) {
    const std::lock_guard lock(mutex_);
    ++summary_.dropped;
    return;
  }
  uint64_t index = 0;
  {
    const std::lock_guard lock(mutex_);
    ++summary_.logins;
    index = loginsSeen_++;
  }
  std::string session = session_;
  while (!session.empty() && session.back() == ' ') session.pop_back();
  std::vector<uint8_t> out;
  const bool fault = index < options_.rejectFirst;
  if (fault || login->username != options_.username || login->password != options_.password ||
      (!login->session.empty() && login->session != session)) {
    soup::appendLoginRejected(out, !fault && !login->session.empty() && login->session != session
                                       ? soup::kSessionNotAvailable
                                       : soup::kNotAuthorized);
    send(out);
    const std::lock_guard lock(mutex_);
    ++summary_.rejected;
    return;
  }
  soup::appendLoginAccepted(out, session, 1);

  // The snapshot, as the day stands now.
  std::vector<uint8_t> blocks;
  uint64_t orders = 0, next = 0;
  {
    const std::lock_guard lock(mutex_);
    state_.snapshot(blocks, orders);
    next = next_;
  }
  std::vector<const uint8_t*> messages;  // into blocks
  for (size_t at = 0; at + 2 <= blocks.size(); at += 2 + loadBe16(blocks.data() + at))
    messages.push_back(blocks.data() + at);
  const uint64_t cutAt = messages.size() / 2;
  const bool cut = index >= options_.rejectFirst && index < uint64_t{options_.rejectFirst} + options_.closeFirst;
  const bool stall = !cut && index >= uint64_t{options_.rejectFirst} + options_.closeFirst &&
                     index < uint64_t{options_.rejectFirst} + options_.closeFirst + options_.stallFirst;
  for (size_t i = 0; i < messages.size(); ++i) {
    if ((cut || stall) && i == cutAt) break;
    soup::append(out, soup::type::kSequencedData, {messages[i] + 2, loadBe16(messages[i])});
    if (out.size() >= 1 << 16) {
      send(out);
      out.clear();
    }
  }
  if (cut || stall) {
    send(out);
    const std::lock_guard lock(mutex_);
    ++(cut ? summary_.cutOff : summary_.stalled);
    if (cut) return;
    // Silent until the client gives up (it closes), or fhsim stops.
    while (!gone && !stop_) receive(100, [](const soup::Packet&) {});
    return;
  }
  const auto end = glimpse::encodeEndOfSnapshot(next);
  soup::append(out, soup::type::kSequencedData, end);
  send(out);
  if (gone) return;
  {
    const std::lock_guard lock(mutex_);
    ++summary_.served;
    summary_.ordersSent += orders;
    summary_.lastSnapshotSequence = next;
  }
  // Heartbeats until the client logs out, leaves or falls silent.
  bool loggedOut = false;
  while (!gone && !stop_ && !loggedOut) {
    receive(100,
            [&](const soup::Packet& packet) { loggedOut = loggedOut || packet.type == soup::type::kLogoutRequest; });
    const int64_t now = monotonicMs();
    if (now - lastReceived > soup::kSilenceTimeoutMs) {
      const std::lock_guard lock(mutex_);
      ++summary_.dropped;
      return;
    }
    if (now - lastSent >= soup::kHeartbeatMs) {
      out.clear();
      soup::append(out, soup::type::kServerHeartbeat);
      send(out);
    }
  }
}

}  // namespace fh::sim
