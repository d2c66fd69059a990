// SoupBinTCP 3.00 framing and GLIMPSE's End of Snapshot, on bytes laid out by
// hand from the specifications.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "glimpse/glimpse.h"
#include "soup/soupbintcp.h"

namespace soup = fh::soup;

namespace {

std::vector<uint8_t> bytes(const std::string& s) { return {s.begin(), s.end()}; }

std::string text(std::span<const uint8_t> b) { return {b.begin(), b.end()}; }

}  // namespace

TEST_CASE("soupbintcp: a login request is 47 bytes after the length, fields padded as the spec says", "[soup]") {
  std::vector<uint8_t> out;
  soup::appendLoginRequest(out, "fh", "secret", "", 1);
  REQUIRE(out.size() == 2 + 1 + 46);
  REQUIRE(out[0] == 0);
  REQUIRE(out[1] == 47);
  REQUIRE(out[2] == 'L');
  REQUIRE(text({out.data() + 3, 46}) == "fh    secret              " + std::string(19, ' ') + "1");

  soup::Reader r;
  r.add(out);
  soup::Packet p{};
  REQUIRE(r.next(p) == soup::Reader::Status::Packet);
  REQUIRE(p.type == 'L');
  const auto login = soup::parseLoginRequest(p.payload);
  REQUIRE(login);
  REQUIRE(login->username == "fh");
  REQUIRE(login->password == "secret");
  REQUIRE(login->session.empty());
  REQUIRE(login->sequence == 1u);
  REQUIRE(r.next(p) == soup::Reader::Status::NeedMore);
}

TEST_CASE("soupbintcp: login accepted, rejected, and the other fields", "[soup]") {
  std::vector<uint8_t> out;
  soup::appendLoginAccepted(out, "FH00000001", 12345);
  soup::appendLoginRejected(out, soup::kNotAuthorized);
  soup::append(out, soup::type::kServerHeartbeat);
  const auto m = fh::glimpse::encodeEndOfSnapshot(778);
  soup::append(out, soup::type::kSequencedData, m);

  soup::Reader r;
  r.add(out);
  soup::Packet p{};
  REQUIRE(r.next(p) == soup::Reader::Status::Packet);
  REQUIRE(p.type == 'A');
  REQUIRE(text(p.payload) == "FH00000001" + std::string(15, ' ') + "12345");
  const auto accepted = soup::parseLoginAccepted(p.payload);
  REQUIRE(accepted);
  REQUIRE(accepted->session == "FH00000001");
  REQUIRE(accepted->sequence == 12345u);
  REQUIRE(r.next(p) == soup::Reader::Status::Packet);
  REQUIRE(p.type == 'J');
  REQUIRE(text(p.payload) == "A");
  REQUIRE(r.next(p) == soup::Reader::Status::Packet);
  REQUIRE(p.type == 'H');
  REQUIRE(p.payload.empty());
  REQUIRE(r.next(p) == soup::Reader::Status::Packet);
  REQUIRE(p.type == 'S');
  REQUIRE(text(p.payload) == "M" + std::string(17, ' ') + "778");
  REQUIRE(fh::glimpse::parseEndOfSnapshot(p.payload) == 778u);
  REQUIRE(r.next(p) == soup::Reader::Status::NeedMore);
}

TEST_CASE("soupbintcp: packets split across reads at every byte come out whole and in order", "[soup]") {
  std::vector<uint8_t> stream;
  for (int i = 0; i < 50; ++i) {
    const std::vector<uint8_t> msg(static_cast<size_t>(i * 7), static_cast<uint8_t>(i));
    soup::append(stream, soup::type::kSequencedData, msg);
  }
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{3}, size_t{64}, size_t{1000}}) {
    soup::Reader r;
    int seen = 0;
    for (size_t at = 0; at < stream.size(); at += chunk) {
      r.add({stream.data() + at, std::min(chunk, stream.size() - at)});
      soup::Packet p{};
      while (r.next(p) == soup::Reader::Status::Packet) {
        REQUIRE(p.type == 'S');
        REQUIRE(p.payload.size() == static_cast<size_t>(seen * 7));
        for (uint8_t b : p.payload) REQUIRE(b == static_cast<uint8_t>(seen));
        ++seen;
      }
    }
    REQUIRE(seen == 50);
    REQUIRE(r.buffered() == 0);
  }
}

TEST_CASE("soupbintcp: bad fields and lengths are refused", "[soup]") {
  soup::Reader r;
  r.add(bytes(std::string("\0\0", 2)));
  soup::Packet p{};
  REQUIRE(r.next(p) == soup::Reader::Status::Malformed);  // no type byte

  REQUIRE_FALSE(soup::parseLoginRequest(bytes("short")));
  std::vector<uint8_t> login;
  soup::appendLoginRequest(login, "fh", "pw", "S1", 1);
  REQUIRE(login.size() == 3 + soup::kLoginRequestLength);
  std::vector<uint8_t> payload(soup::kLoginRequestLength);
  std::copy(login.begin() + 3, login.end(), payload.begin());
  payload[soup::kLoginRequestLength - 1] = 'x';  // the sequence is not a number
  REQUIRE_FALSE(soup::parseLoginRequest(payload));
  std::fill(payload.end() - 20, payload.end(), ' ');  // blank: no sequence given
  const auto blank = soup::parseLoginRequest(payload);
  REQUIRE(blank);
  REQUIRE_FALSE(blank->sequence);
  REQUIRE(blank->session == "S1");

  REQUIRE_FALSE(soup::parseNumeric(bytes("    ")));
  REQUIRE_FALSE(soup::parseNumeric(bytes(" 1 2")));
  REQUIRE_FALSE(soup::parseNumeric(bytes("99999999999999999999")));  // above 2^64
  REQUIRE(soup::parseNumeric(bytes("18446744073709551615")) == UINT64_MAX);
  REQUIRE(soup::parseNumeric(bytes("   007")) == 7u);

  REQUIRE_FALSE(fh::glimpse::parseEndOfSnapshot(bytes("M123")));  // too short
  REQUIRE_FALSE(fh::glimpse::parseEndOfSnapshot(bytes("N" + std::string(19, ' ') + "1")));
  REQUIRE_FALSE(fh::glimpse::parseEndOfSnapshot(bytes("M" + std::string(20, ' '))));  // blank
}
