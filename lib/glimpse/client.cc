#include "glimpse/client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "glimpse/glimpse.h"
#include "shm/clock.h"
#include "soup/soupbintcp.h"

namespace fh::glimpse {

namespace {

int64_t monotonicMs() { return int64_t(shm::clockNs(CLOCK_MONOTONIC) / 1'000'000); }

std::string describe(const Endpoint& e) {
  in_addr a{htonl(e.address)};
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &a, text, sizeof text);
  return std::string(text) + ":" + std::to_string(e.port);
}

class Connection {
 public:
  ~Connection() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const noexcept { return fd_; }

  // Non-blocking connect within the timeout; the error, or empty.
  std::string open(const Endpoint& server, int timeoutMs) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return std::string("socket: ") + std::strerror(errno);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(server.address);
    to.sin_port = htons(server.port);
    if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0 && errno != EINPROGRESS)
      return std::strerror(errno);
    pollfd p{fd_, POLLOUT, 0};
    if (::poll(&p, 1, timeoutMs) <= 0) return "none within " + std::to_string(timeoutMs) + " ms";
    int error = 0;
    socklen_t length = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) return std::strerror(error);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return {};
  }

  // Sends all of `bytes` (small control packets: the socket buffer takes them).
  bool send(const std::vector<uint8_t>& bytes) {
    size_t at = 0;
    while (at < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + at, bytes.size() - at, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) {
        pollfd p{fd_, POLLOUT, 0};
        if (::poll(&p, 1, 1000) <= 0) return false;
        continue;
      }
      if (n <= 0) return false;
      at += size_t(n);
    }
    return true;
  }

 private:
  int fd_ = -1;
};

}  // namespace

const char* name(Outcome outcome) noexcept {
  switch (outcome) {
    case Outcome::Complete:
      return "complete";
    case Outcome::Rejected:
      return "login rejected";
    case Outcome::Closed:
      return "closed before the end";
    case Outcome::Silent:
      return "server silent";
    case Outcome::Malformed:
      return "malformed";
    case Outcome::ConnectFailed:
      return "no connection";
    case Outcome::Stopped:
      return "stopped";
  }
  return "?";
}

SnapshotResult fetchSnapshot(const ClientConfig& config, const std::function<void(const uint8_t*, uint16_t)>& onMessage,
                             const std::atomic<bool>* stop) {
  SnapshotResult r;
  const std::string where = "GLIMPSE server " + describe(config.server);
  Connection c;
  if (const std::string e = c.open(config.server, config.connectTimeoutMs); !e.empty()) {
    r.outcome = Outcome::ConnectFailed;
    r.error = where + ": no connection: " + e;
    return r;
  }
  std::vector<uint8_t> out;
  soup::appendLoginRequest(out, config.username, config.password, config.session, 1);
  if (!c.send(out)) {
    r.outcome = Outcome::Closed;
    r.error = where + ": the login request could not be sent";
    return r;
  }
  soup::Reader reader;
  bool loggedIn = false;
  int64_t lastReceived = monotonicMs(), lastSent = lastReceived;
  uint8_t buffer[1 << 16];
  const auto finish = [&](Outcome o, std::string error) {
    r.outcome = o;
    r.error = error.empty() ? std::string() : where + ": " + error;
    return r;
  };
  for (;;) {
    if (stop != nullptr && stop->load(std::memory_order_relaxed)) return finish(Outcome::Stopped, "stopped");
    const int64_t now = monotonicMs();
    if (loggedIn && now - lastSent >= soup::kHeartbeatMs) {
      out.clear();
      soup::append(out, soup::type::kClientHeartbeat);
      c.send(out);
      lastSent = now;
    }
    if (now - lastReceived > config.silenceTimeoutMs)
      return finish(Outcome::Silent, "nothing for " + std::to_string(config.silenceTimeoutMs) + " ms after " +
                                         std::to_string(r.messages) + " snapshot messages");
    pollfd p{c.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(c.fd(), buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0)
      return finish(Outcome::Closed, "connection closed after " + std::to_string(r.messages) + " snapshot messages" +
                                         (n < 0 ? std::string(": ") + std::strerror(errno) : std::string()));
    lastReceived = monotonicMs();
    reader.add({buffer, size_t(n)});
    soup::Packet packet{};
    for (;;) {
      const auto status = reader.next(packet);
      if (status == soup::Reader::Status::NeedMore) break;
      if (status == soup::Reader::Status::Malformed) return finish(Outcome::Malformed, "a packet of length 0");
      switch (packet.type) {
        case soup::type::kLoginAccepted: {
          const auto a = soup::parseLoginAccepted(packet.payload);
          if (!a) return finish(Outcome::Malformed, "a malformed Login Accepted");
          r.session = a->session;
          loggedIn = true;
          break;
        }
        case soup::type::kLoginRejected:
          r.rejectReason = packet.payload.empty() ? '?' : static_cast<char>(packet.payload[0]);
          return finish(Outcome::Rejected, std::string("login rejected (") +
                                               (r.rejectReason == soup::kNotAuthorized         ? "not authorized"
                                                : r.rejectReason == soup::kSessionNotAvailable ? "session not available"
                                                                                               : "reason unknown") +
                                               ")");
        case soup::type::kSequencedData: {
          if (!loggedIn) return finish(Outcome::Malformed, "data before Login Accepted");
          if (!packet.payload.empty() && packet.payload[0] == static_cast<uint8_t>(kEndOfSnapshot)) {
            const auto next = parseEndOfSnapshot(packet.payload);
            if (!next) return finish(Outcome::Malformed, "a malformed End of Snapshot");
            r.nextSequence = *next;
            out.clear();
            soup::append(out, soup::type::kLogoutRequest);
            c.send(out);
            return finish(Outcome::Complete, "");
          }
          if (packet.payload.size() > 0xFFFF) return finish(Outcome::Malformed, "a message longer than 65535 bytes");
          onMessage(packet.payload.data(), static_cast<uint16_t>(packet.payload.size()));
          ++r.messages;
          break;
        }
        case soup::type::kEndOfSession:
          return finish(Outcome::Closed, "End of Session after " + std::to_string(r.messages) + " snapshot messages");
        default:  // heartbeats, debug text
          break;
      }
    }
  }
}

}  // namespace fh::glimpse
