// The built `fhsim publish`, run as the integration tests run it: every real
// capture and BinaryFILE published to a pcap (--dry-run-pcap) decodes to the
// input's messages with contiguous sequence numbers, packets within the MTU
// and an End of Session; the fault options drop or swap exactly the packets
// they name; refusals of addresses outside the test network; and one real
// send to a multicast group on the loopback interface.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "capture/capture.h"
#include "feed/file_source.h"
#include "mold/moldudp64.h"
#include "process.h"

namespace {

namespace fs = std::filesystem;
using fh::test::Run;
using fh::test::TempDir;

const std::vector<std::string> kLines = {"--group-a", "239.1.1.1", "--port-a", "26400",
                                         "--group-b", "239.1.1.2", "--port-b", "26401"};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// `fhsim publish --file input` with line A written to `out`.
Run publishDry(const std::string& input, const std::string& out, const std::vector<std::string>& extra = {}) {
  return fh::test::run("fhsim", concat(concat({"publish", "--file", input, "--dry-run-pcap", out}, kLines), extra));
}

struct Decoded {
  std::vector<std::string> messages;  // jsonl lines without seq and session
  std::vector<uint64_t> sequences;
  std::set<std::string> sessions;
};

Decoded decode(const std::string& path, const std::vector<std::string>& extra = {}) {
  const Run r = fh::test::run("fhctl", concat({"decode", "--format", "jsonl", path}, extra));
  REQUIRE(r.exited);
  REQUIRE(r.exitCode == 0);
  static const std::regex origin(R"re(^\{"seq":(\d+),(?:"session":"([^"]*)",)?)re");
  Decoded d;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    REQUIRE(std::regex_search(line, m, origin));
    d.sequences.push_back(std::stoull(m[1].str()));
    if (m[2].matched) d.sessions.insert(m[2].str());
    std::string rest(1, '{');  // not "{" + ...: GCC 12 warns of a false -Wrestrict there
    rest.append(m.suffix().first, m.suffix().second);
    d.messages.push_back(std::move(rest));
  }
  return d;
}

struct Packet {
  uint32_t srcAddr, dstAddr;
  uint16_t srcPort, dstPort;
  size_t ipLength;  // IPv4 header, UDP header and payload
  fh::mold::PacketResult mold;
};

std::vector<Packet> readPackets(const std::string& path) {
  const fh::capture::MappedFile file(path);
  const auto format = fh::capture::detectFormat(file.bytes());
  REQUIRE(format == fh::capture::Format::Pcap);
  std::vector<Packet> packets;
  const auto r = fh::capture::forEachFrame(file.bytes(), format, [&](const fh::capture::Frame& frame) {
    fh::capture::UdpDatagram udp{};
    REQUIRE(fh::capture::parseUdp(frame, udp) == fh::capture::SkipReason::None);
    REQUIRE(frame.data.size() == 14 + 28 + udp.payload.size());
    const auto mold = fh::mold::forEachMessage(udp.payload, [](uint64_t, const uint8_t*, uint16_t) {});
    packets.push_back({udp.srcAddr, udp.dstAddr, udp.srcPort, udp.dstPort, 28 + udp.payload.size(), mold});
  });
  REQUIRE(r.error.empty());
  REQUIRE_FALSE(r.truncated);
  return packets;
}

std::vector<std::string> everyInput() {
  std::vector<std::string> files;
  for (const auto& entry : fs::recursive_directory_iterator(fh::test::testdata(""))) {
    const std::string name = entry.path().filename().string();
    if (entry.is_regular_file() && (name.ends_with(".pcap") || name.ends_with(".NASDAQ_ITCH50")))
      files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Data packets, then `heartbeats` heartbeats, then `endOfSession` End of
// Session packets, all of them well formed, within `mtu`, to line A.
void checkShape(const std::vector<Packet>& packets, uint64_t firstSeq, uint64_t messages, size_t mtu,
                uint32_t heartbeats, uint32_t endOfSession, const std::string& session) {
  REQUIRE(packets.size() >= heartbeats + endOfSession);
  const size_t data = packets.size() - heartbeats - endOfSession;
  uint64_t next = firstSeq;
  for (size_t i = 0; i < packets.size(); ++i) {
    const Packet& p = packets[i];
    INFO("packet " << i);
    CHECK(p.ipLength <= mtu);
    CHECK(p.dstAddr == 0xEF010101);
    CHECK(p.dstPort == 26400);
    CHECK(p.mold.header.sessionTrimmed() == session);
    CHECK(p.mold.header.sequence == next);
    if (i < data) {
      REQUIRE(p.mold.kind == fh::mold::PacketKind::Messages);
      next += p.mold.blocks;
    } else if (i < data + heartbeats) {
      CHECK(p.mold.kind == fh::mold::PacketKind::Heartbeat);
    } else {
      CHECK(p.mold.kind == fh::mold::PacketKind::EndOfSession);
    }
  }
  CHECK(next == firstSeq + messages);
}

void checkContiguous(const Decoded& d, uint64_t firstSeq) {
  for (size_t i = 0; i < d.sequences.size(); ++i) REQUIRE(d.sequences[i] == firstSeq + i);
}

}  // namespace

TEST_CASE("fhsim publish: every capture and BinaryFILE gives its messages, in order, in MoldUDP64", "[fhsim]") {
  const std::vector<std::string> inputs = everyInput();
  REQUIRE(inputs.size() >= 30);
  TempDir dir;
  const std::string out = (dir.path() / "out.pcap").string();
  for (const std::string& input : inputs) {
    INFO(input);
    const Run r = publishDry(input, out, {"--first-seq", "1000"});
    REQUIRE(r.exited);
    REQUIRE(r.exitCode == 0);
    const Decoded want = decode(input);
    const Decoded got = decode(out);
    REQUIRE(!want.messages.empty());
    CHECK(got.messages == want.messages);
    CHECK(got.sessions == std::set<std::string>{"FH00000001"});
    checkContiguous(got, 1000);
    checkShape(readPackets(out), 1000, want.messages.size(), 1500, 0, 3, "FH00000001");
    CHECK(r.err.find("sequence 1000 to " + std::to_string(999 + want.messages.size())) != std::string::npos);
  }
}

TEST_CASE("fhsim publish: --mtu, --messages-per-packet, --session, --heartbeats, --end-of-session", "[fhsim]") {
  TempDir dir;
  const std::string out = (dir.path() / "out.pcap").string();
  const std::string input = fh::test::testdata("bx_sample_20191230.NASDAQ_ITCH50");
  const Decoded want = decode(input);
  REQUIRE(want.messages.size() == 12'012);

  SECTION("a small MTU") {
    const Run r = publishDry(input, out, {"--mtu", "120", "--session", "TEST1", "--heartbeats", "2"});
    REQUIRE(r.exitCode == 0);
    const auto packets = readPackets(out);
    checkShape(packets, 1, want.messages.size(), 120, 2, 3, "TEST1");
    CHECK(decode(out).messages == want.messages);
    // Packets are filled: a packet and the next message would not fit.
    size_t fullEnough = 0;
    for (const Packet& p : packets) fullEnough += p.ipLength > 120 - 52 ? 1 : 0;
    CHECK(fullEnough >= packets.size() - 6);
  }
  SECTION("at most N messages a packet") {
    const Run r = publishDry(input, out, {"--messages-per-packet", "5", "--end-of-session", "1", "--first-seq", "7"});
    REQUIRE(r.exitCode == 0);
    const auto packets = readPackets(out);
    checkShape(packets, 7, want.messages.size(), 1500, 0, 1, "FH00000001");
    REQUIRE(packets.size() == (12'012 + 4) / 5 + 1);
    for (size_t i = 0; i + 2 < packets.size(); ++i) CHECK(packets[i].mold.blocks == 5);
    CHECK(packets[packets.size() - 2].mold.blocks == 12'012 % 5);
    const Decoded got = decode(out);
    CHECK(got.messages == want.messages);
    checkContiguous(got, 7);
  }
  SECTION("--source and the interface's address are the packets' source") {
    const Run r = publishDry(input, out, {"--source", "198.19.255.254"});
    REQUIRE(r.exitCode == 0);
    for (const Packet& p : readPackets(out)) REQUIRE(p.srcAddr == 0xC613FFFE);
    REQUIRE(publishDry(input, out, {"--interface", "lo"}).exitCode == 0);
    for (const Packet& p : readPackets(out)) REQUIRE(p.srcAddr == 0x7F000001);
  }
}

TEST_CASE("fhsim publish: --port takes only the capture's datagrams to that port", "[fhsim]") {
  TempDir dir;
  const std::string out = (dir.path() / "out.pcap").string();
  const std::string input = fh::test::testdata("elk_nasdaq.pcap");
  Run r = publishDry(input, out, {"--port", "26477"});
  REQUIRE(r.exitCode == 0);
  CHECK(decode(out).messages.size() == 2232);
  r = publishDry(input, out, {"--port", "1985"});
  REQUIRE(r.exitCode == 0);
  CHECK(decode(out).messages.empty());
  const auto packets = readPackets(out);
  REQUIRE(packets.size() == 3);
  CHECK(packets[0].mold.kind == fh::mold::PacketKind::EndOfSession);
  CHECK(packets[0].mold.header.sequence == 1);
}

TEST_CASE("fhsim publish: --generate publishes what fhsim generate writes", "[fhsim]") {
  TempDir dir;
  const std::string day = (dir.path() / "day.itch").string();
  const std::string out = (dir.path() / "out.pcap").string();
  const Run g =
      fh::test::run("fhsim", {"generate", "--messages", "20000", "--symbols", "20", "--seed", "3", "--out", day});
  REQUIRE(g.exitCode == 0);
  const Run r = fh::test::run(
      "fhsim",
      concat({"publish", "--generate", "20000", "--symbols", "20", "--seed", "3", "--dry-run-pcap", out}, kLines));
  REQUIRE(r.exitCode == 0);
  const Decoded got = decode(out);
  CHECK(got.messages == decode(day).messages);
  checkContiguous(got, 1);
}

TEST_CASE("fhsim publish: fault options drop and swap exactly the packets they name", "[fhsim]") {
  TempDir dir;
  const std::string out = (dir.path() / "out.pcap").string();
  const std::string input = fh::test::testdata("12302019_SNIPPET.NASDAQ_ITCH50");
  const Decoded want = decode(input);
  REQUIRE(want.messages.size() == 1000);
  const auto sequences = [&] { return decode(out).sequences; };
  const auto without = [](uint64_t every, uint64_t perPacket) {
    std::vector<uint64_t> s;
    for (uint64_t seq = 1; seq <= 1000; ++seq)
      if (((seq - 1) / perPacket + 1) % every != 0) s.push_back(seq);
    return s;
  };
  std::vector<uint64_t> all(1000);
  for (uint64_t i = 0; i < 1000; ++i) all[i] = i + 1;

  SECTION("--drop-a: line A loses them, line B keeps them") {
    const Run r = publishDry(input, out, {"--messages-per-packet", "3", "--drop-a", "4"});
    REQUIRE(r.exitCode == 0);
    CHECK(sequences() == without(4, 3));
    // 334 data packets, 83 of them dropped on A; 3 End of Session on each line.
    CHECK(r.err.find("line A 239.1.1.1:26400: 254 packets, 751 messages, 83 dropped") != std::string::npos);
    CHECK(r.err.find("line B 239.1.1.2:26401: 337 packets, 1000 messages, 0 dropped") != std::string::npos);
  }
  SECTION("--drop-b: line A keeps everything") {
    const Run r = publishDry(input, out, {"--messages-per-packet", "1", "--drop-b", "10"});
    REQUIRE(r.exitCode == 0);
    CHECK(sequences() == all);
    CHECK(r.err.find("line A 239.1.1.1:26400: 1003 packets, 1000 messages, 0 dropped") != std::string::npos);
    CHECK(r.err.find("line B 239.1.1.2:26401: 903 packets, 900 messages, 100 dropped") != std::string::npos);
  }
  SECTION("--drop-both: a real gap") {
    const Run r = publishDry(input, out, {"--messages-per-packet", "1", "--drop-both", "7"});
    REQUIRE(r.exitCode == 0);
    CHECK(sequences() == without(7, 1));
    CHECK(r.err.find("line A 239.1.1.1:26400: 861 packets, 858 messages, 142 dropped") != std::string::npos);
    CHECK(r.err.find("line B 239.1.1.2:26401: 861 packets, 858 messages, 142 dropped") != std::string::npos);
    CHECK(r.err.find("sequence 1 to 1000") != std::string::npos);
  }
  SECTION("--reorder-a: every Nth pair swapped, nothing lost") {
    const Run r = publishDry(input, out, {"--messages-per-packet", "1", "--reorder-a", "3"});
    REQUIRE(r.exitCode == 0);
    std::vector<uint64_t> expected = all;
    for (size_t pair = 3; 2 * pair <= expected.size(); pair += 3)
      std::swap(expected[2 * pair - 2], expected[2 * pair - 1]);
    CHECK(sequences() == expected);
    CHECK(r.err.find("line A 239.1.1.1:26400: 1003 packets, 1000 messages, 0 dropped") != std::string::npos);
  }
}

TEST_CASE("fhsim publish: a dry run of both lines keeps time by its schedule, the same capture every run", "[fhsim]") {
  TempDir dir;
  const std::string input = fh::test::testdata("12302019_SNIPPET.NASDAQ_ITCH50");
  struct Sent {
    uint32_t dstAddr;
    uint64_t sequence;
    uint64_t sinceFirstNs;
    bool operator==(const Sent&) const = default;
  };
  const auto capture = [&](const std::string& name, std::vector<std::string> extra = {}) {
    const std::string out = (dir.path() / name).string();
    const Run r = publishDry(
        input, out, concat({"--messages-per-packet", "1", "--b-delay-us", "100", "--dry-run-both-lines"}, extra));
    INFO(r.err);
    REQUIRE(r.exitCode == 0);
    const fh::capture::MappedFile file(out);
    std::vector<Sent> sent;
    uint64_t first = 0;
    fh::capture::forEachFrame(file.bytes(), fh::capture::Format::Pcap, [&](const fh::capture::Frame& frame) {
      fh::capture::UdpDatagram udp{};
      REQUIRE(fh::capture::parseUdp(frame, udp) == fh::capture::SkipReason::None);
      if (sent.empty()) first = frame.timestampNs;
      const auto mold = fh::mold::forEachMessage(udp.payload, [](uint64_t, const uint8_t*, uint16_t) {});
      sent.push_back({udp.dstAddr, mold.header.sequence, frame.timestampNs - first});
    });
    return sent;
  };
  const std::vector<Sent> one = capture("one.pcap");
  // However the machine schedules fhsim, the second run writes the same frames at the same offsets.
  CHECK(capture("two.pcap") == one);
  // Each of line B's copies trails line A's by exactly the delay (a dry run's packet takes 1 µs), as
  // fast as it goes and paced (200,000 messages/s: 1,000 packets over 5 ms, the clock jumping between batches).
  // The last frame: after 1,000 packets of 1 µs; paced, after the last batch of 200, due at 4 ms.
  const std::vector<std::pair<std::vector<Sent>, uint64_t>> runs = {
      {one, 1'000'000}, {capture("paced.pcap", {"--rate", "200000"}), 4'000'000}};
  for (const auto& [run, lastAfter] : runs) {
    std::map<uint64_t, uint64_t> sentOnA;
    size_t copies = 0;
    for (const Sent& s : run) {
      if (s.dstAddr == 0xEF010101) {
        sentOnA.emplace(s.sequence, s.sinceFirstNs);
      } else if (const auto a = sentOnA.find(s.sequence); a != sentOnA.end() && s.sequence <= 1000) {
        ++copies;
        INFO("sequence " << s.sequence);
        CHECK(s.sinceFirstNs - a->second == 100'000);
      }
    }
    CHECK(copies == 1000);
    CHECK(run.back().sinceFirstNs > lastAfter);
  }
}

TEST_CASE("fhsim publish: refusals and errors name the option and exit non-zero", "[fhsim]") {
  TempDir dir;
  const std::string out = (dir.path() / "out.pcap").string();
  const std::string input = fh::test::testdata("12302019_SNIPPET.NASDAQ_ITCH50");
  const auto fails = [&](const std::vector<std::string>& args, const std::string& message) {
    INFO(message);
    const Run r = fh::test::run("fhsim", concat({"publish"}, args));
    CHECK(r.exited);
    CHECK(r.exitCode != 0);
    CHECK(r.err.find(message) != std::string::npos);
    CHECK_FALSE(fs::exists(out));
  };
  const auto lineA = [](const std::string& group) {
    return std::vector<std::string>{"--group-a", group, "--port-a", "1"};
  };
  const std::vector<std::string> file = {"--file", input, "--dry-run-pcap", out};

  for (const std::string group : {"224.0.0.1", "238.255.255.255", "240.0.0.1", "233.54.12.111"})
    fails(concat(file, lineA(group)), "--group-a " + group + ": refused: multicast groups must be in 239.0.0.0/8");
  fails(concat(concat(file, lineA("239.1.1.1")), {"--group-b", "225.1.1.1", "--port-b", "2"}),
        "--group-b 225.1.1.1: refused");
  for (const std::string source : {"10.0.0.1", "198.17.255.255", "198.20.0.0", "127.0.0.1"})
    fails(concat(concat(file, lineA("239.1.1.1")), {"--source", source}),
          "--source " + source + ": refused: hosts must be in 198.18.0.0/15");
  fails(concat(file, lineA("239.1.1")), "--group-a '239.1.1': not an IPv4 address");
  fails(concat(concat(file, lineA("239.1.1.1")), {"--interface", "fh-no-such-if"}),
        "--interface fh-no-such-if: no such interface");
  fails(concat(concat(file, lineA("239.1.1.1")), {"--interface", "198.18.255.254"}),
        "--interface 198.18.255.254: no interface has this address");
  fails(concat({"--file", (dir.path() / "missing").string(), "--dry-run-pcap", out}, lineA("239.1.1.1")),
        "--file: cannot open");
  fails(concat({"--file", input}, lineA("239.1.1.1")), "--interface is required");
  fails(concat(concat(file, lineA("239.1.1.1")), {"--mtu", "50"}), "--mtu 50");
  fails(concat(concat(file, lineA("239.1.1.1")), {"--session", "ELEVENCHARS"}), "--session 'ELEVENCHARS'");
  fails(concat(concat(file, lineA("239.1.1.1")), {"--drop-b", "2"}), "--drop-b 2: needs line B");
  fails(concat({"--generate", "100", "--dry-run-pcap", out}, lineA("239.1.1.1")), "--generate 100: too few");
  fails(concat({"--dry-run-pcap", out}, lineA("239.1.1.1")), "--file FILE or --generate N");
  // A source in the test range that this host does not have cannot be bound.
  fails(concat(concat({"--file", input, "--interface", "lo"}, lineA("239.255.0.1")), {"--source", "198.19.255.253"}),
        "--source 198.19.255.253: cannot bind");
}

namespace {

// A UDP socket joined to `group` on the loopback interface.
class Receiver {
 public:
  Receiver(const std::string& group, uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    const int on = 1, buffer = 4 << 20;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    REQUIRE(::inet_pton(AF_INET, group.c_str(), &a.sin_addr) == 1);
    REQUIRE(::bind(fd_, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0);
    ip_mreqn join{};
    join.imr_multiaddr = a.sin_addr;
    join.imr_ifindex = static_cast<int>(::if_nametoindex("lo"));
    joined_ = ::setsockopt(fd_, IPPROTO_IP, IP_ADD_MEMBERSHIP, &join, sizeof join) == 0;
  }
  ~Receiver() { ::close(fd_); }
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  bool joined() const { return joined_; }
  int fd() const { return fd_; }

  // One datagram, or empty after `timeoutMs`.
  std::vector<uint8_t> receive(int timeoutMs) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeoutMs) != 1) return {};
    std::vector<uint8_t> datagram(65'536);
    const ssize_t n = ::recv(fd_, datagram.data(), datagram.size(), 0);
    datagram.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return datagram;
  }

 private:
  int fd_ = -1;
  bool joined_ = false;
};

// Whether a datagram sent to `group` through lo comes back to `receiver`.
bool loopbackMulticastWorks(Receiver& receiver, const std::string& group, uint16_t port) {
  if (!receiver.joined()) return false;
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ip_mreqn itf{};
  itf.imr_ifindex = static_cast<int>(::if_nametoindex("lo"));
  const int loop = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &itf, sizeof itf);
  ::setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof loop);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  ::inet_pton(AF_INET, group.c_str(), &to.sin_addr);
  const char probe[] = "probe";
  const bool sent = ::sendto(fd, probe, sizeof probe, 0, reinterpret_cast<const sockaddr*>(&to), sizeof to) > 0;
  ::close(fd);
  return sent && receiver.receive(2000).size() == sizeof probe;
}

struct LineSeen {
  uint64_t packets = 0, messages = 0, heartbeats = 0, endOfSession = 0, malformed = 0;
  uint64_t next = 1;  // sequence expected next
  bool inOrder = true;

  void add(const std::vector<uint8_t>& datagram) {
    ++packets;
    const auto r = fh::mold::forEachMessage(datagram, [](uint64_t, const uint8_t*, uint16_t) {});
    if (r.malformed()) ++malformed;
    if (r.kind == fh::mold::PacketKind::Heartbeat) ++heartbeats;
    if (r.kind == fh::mold::PacketKind::EndOfSession) ++endOfSession;
    if (r.kind != fh::mold::PacketKind::Messages) return;
    inOrder = inOrder && r.header.sequence == next && r.header.sessionTrimmed() == "LOOPTEST";
    next = r.header.sequence + r.blocks;
    messages += r.blocks;
  }
};

}  // namespace

TEST_CASE("fhsim publish: a real send to multicast groups on lo, both lines", "[fhsim]") {
  // Groups and ports of this process only, so that parallel runs never meet.
  const unsigned id = static_cast<unsigned>(::getpid());
  const std::string groupA = "239.255." + std::to_string((id >> 8) & 0xFF) + "." + std::to_string(id & 0xFF);
  const std::string groupB = "239.255." + std::to_string(((id >> 8) & 0xFF) ^ 0x80) + "." + std::to_string(id & 0xFF);
  const uint16_t portA = static_cast<uint16_t>(20'000 + id % 20'000), portB = static_cast<uint16_t>(portA + 1);
  Receiver a(groupA, portA), b(groupB, portB);
  if (!loopbackMulticastWorks(a, groupA, portA)) {
    WARN("skipped by design: multicast to " << groupA << " on lo does not come back on this machine");
    return;
  }
  TempDir dir;
  const pid_t pid = fh::test::start("fhsim",
                                    {"publish",
                                     "--file",
                                     fh::test::testdata("12302019_SNIPPET.NASDAQ_ITCH50"),
                                     "--interface",
                                     "lo",
                                     "--loop",
                                     "--group-a",
                                     groupA,
                                     "--port-a",
                                     std::to_string(portA),
                                     "--group-b",
                                     groupB,
                                     "--port-b",
                                     std::to_string(portB),
                                     "--session",
                                     "LOOPTEST",
                                     "--rate",
                                     "200000",
                                     "--b-delay-us",
                                     "200",
                                     "--heartbeats",
                                     "1",
                                     "--mtu",
                                     "600"},
                                    dir, "publish");
  LineSeen seenA, seenB;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while ((seenA.endOfSession < 3 || seenB.endOfSession < 3) && std::chrono::steady_clock::now() < deadline) {
    pollfd p[2] = {{a.fd(), POLLIN, 0}, {b.fd(), POLLIN, 0}};
    if (::poll(p, 2, 200) <= 0) continue;
    if (p[0].revents & POLLIN) seenA.add(a.receive(0));
    if (p[1].revents & POLLIN) seenB.add(b.receive(0));
  }
  const Run r = fh::test::finish(pid, dir, "publish");
  INFO(r.err);
  REQUIRE(r.exitCode == 0);
  for (const LineSeen* line : {&seenA, &seenB}) {
    CHECK(line->malformed == 0);
    CHECK(line->messages == 1000);
    CHECK(line->inOrder);
    CHECK(line->next == 1001);
    CHECK(line->heartbeats == 1);
    CHECK(line->endOfSession == 3);
  }
  CHECK(seenA.packets == seenB.packets);
}

namespace {

// A UDP socket on 127.0.0.1 that sends requests to fhsim's re-request server.
class Requester {
 public:
  explicit Requester(uint16_t serverPort) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd_ >= 0);
    server_.sin_family = AF_INET;
    server_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    server_.sin_port = htons(serverPort);
  }
  ~Requester() { ::close(fd_); }
  // The reply to (session, first, count), if one comes within `waitMs`.
  std::optional<std::vector<uint8_t>> ask(const std::string& session, uint64_t first, uint16_t count, int waitMs) {
    uint8_t p[20];
    std::memset(p, ' ', 10);
    std::memcpy(p, session.data(), std::min<size_t>(session.size(), 10));
    for (int i = 0; i < 8; ++i) p[10 + i] = uint8_t(first >> (56 - 8 * i));
    p[18] = uint8_t(count >> 8);
    p[19] = uint8_t(count);
    ::sendto(fd_, p, sizeof p, 0, reinterpret_cast<const sockaddr*>(&server_), sizeof server_);
    pollfd w{fd_, POLLIN, 0};
    if (::poll(&w, 1, waitMs) <= 0) return std::nullopt;
    std::vector<uint8_t> buf(65536);
    const ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
    if (n < 0) return std::nullopt;
    buf.resize(size_t(n));
    return buf;
  }

 private:
  int fd_ = -1;
  sockaddr_in server_{};
};

}  // namespace

TEST_CASE("fhsim publish: the re-request server answers from what it published, with its faults", "[fhsim]") {
  TempDir dir;
  const std::string input = fh::test::testdata("12302019_SNIPPET.NASDAQ_ITCH50");
  const fh::capture::MappedFile file(input);
  std::vector<std::vector<uint8_t>> published;  // message m at m-1
  struct Collect {
    std::vector<std::vector<uint8_t>>& out;
    void message(const fh::feed::MessageMeta&, const uint8_t* m, uint16_t n) { out.emplace_back(m, m + n); }
    void malformedPacket(uint64_t, const fh::mold::PacketResult&) {}
  } collect{published};
  fh::feed::FileSourceCounters counters;
  REQUIRE(fh::feed::replayFile(file.bytes(), {}, counters, collect).ok());
  REQUIRE(published.size() == 1000);

  const uint16_t port = static_cast<uint16_t>(30'000 + ::getpid() % 20'000);
  const pid_t pid = fh::test::start(
      "fhsim",
      concat(concat({"publish", "--file", input, "--dry-run-pcap", (dir.path() / "out.pcap").string(), "--session",
                     "RR", "--rerequest-listen", "127.0.0.1:" + std::to_string(port), "--rerequest-max-messages", "10",
                     "--rerequest-forget-before", "100", "--rerequest-stop-after", "3", "--linger-ms", "4000"},
                    kLines),
             {}),
      dir, "publish");
  Requester r(port);
  // The server is up once it answers: until then a request meets a closed port.
  std::optional<std::vector<uint8_t>> first;
  for (int i = 0; i < 30 && !first; ++i) first = r.ask("RR", 200, 20, 100);
  REQUIRE(first);
  const auto check = [&](const std::vector<uint8_t>& reply, uint64_t from, uint16_t count) {
    std::vector<uint64_t> seen;
    const fh::mold::PacketResult res = fh::mold::forEachMessage(reply, [&](uint64_t seq, const uint8_t* m, uint16_t n) {
      CHECK(std::vector<uint8_t>(m, m + n) == published.at(seq - 1));
      seen.push_back(seq);
    });
    CHECK(res.kind == fh::mold::PacketKind::Messages);
    CHECK(res.header.sessionTrimmed() == "RR");
    CHECK(res.header.sequence == from);
    CHECK(seen.size() == count);
  };
  check(*first, 200, 10);                        // capped at 10 a reply
  const auto tail = r.ask("RR", 995, 20, 1000);  // only 995..1000 exist
  REQUIRE(tail);
  check(*tail, 995, 6);
  CHECK_FALSE(r.ask("OTHER", 300, 1, 300));  // another session
  CHECK_FALSE(r.ask("RR", 50, 5, 300));      // forgotten
  const auto third = r.ask("RR", 300, 1, 1000);
  REQUIRE(third);
  check(*third, 300, 1);
  CHECK_FALSE(r.ask("RR", 300, 1, 300));  // three answered: it stops
  const Run done = fh::test::finish(pid, dir, "publish");
  INFO(done.err);
  REQUIRE(done.exitCode == 0);
  // The first asks may come before sequence 200 is published (a loaded
  // machine): each is a request beyond the end, on top of the five.
  const std::regex summary("re-request server 127\\.0\\.0\\.1:" + std::to_string(port) +
                           ": ([0-9]+) requests, 3 answered with 17 messages; unanswered: 1 stopped, 1 forgotten, 0 "
                           "rate-limited, ([0-9]+) beyond the end; 1 of another session, 0 malformed");
  std::smatch m;
  REQUIRE(std::regex_search(done.err, m, summary));
  CHECK(std::stoi(m[1]) == 5 + std::stoi(m[2]));
}

TEST_CASE("fhsim publish: seeded loss and duplication are the same for the same seed, each line on its own",
          "[fhsim]") {
  TempDir dir;
  const std::string input = fh::test::testdata("12302019_SNIPPET.NASDAQ_ITCH50");
  const auto run = [&](const std::vector<std::string>& faults) {
    const std::string out = (dir.path() / "out.pcap").string();
    const Run r = publishDry(input, out, concat({"--messages-per-packet", "1"}, faults));
    REQUIRE(r.exitCode == 0);
    return std::pair{decode(out).sequences, r.err};
  };
  const auto [a1, err1] = run({"--loss-a", "10", "--fault-seed", "5"});
  const auto [a2, err2] = run({"--loss-a", "10", "--fault-seed", "5", "--loss-b", "30"});
  const auto [a3, err3] = run({"--loss-a", "10", "--fault-seed", "6"});
  CHECK(a1 == a2);  // line B's faults do not move line A's
  CHECK(a1 != a3);
  CHECK(a1.size() > 850);
  CHECK(a1.size() < 950);
  const auto [d, errD] = run({"--duplicate-a", "10", "--fault-seed", "5"});
  CHECK(d.size() > 1050);
  CHECK(std::is_sorted(d.begin(), d.end()));
  CHECK(errD.find("duplicated: " + std::to_string(d.size() - 1000) + " packets on A") != std::string::npos);
  const auto [burst, errB] = run({"--burst-loss", "10:5"});
  CHECK(burst.size() == 995);
  CHECK(std::find(burst.begin(), burst.end(), 12) == burst.end());
  const auto [silent, errS] = run({"--silence-a", "100:50"});
  CHECK(silent.size() == 950);
  CHECK(errS.find("line B 239.1.1.2:26401: 1003 packets, 1000 messages, 0 dropped") != std::string::npos);
}
