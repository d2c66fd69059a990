// SoupBinTCP 3.00, the TCP session layer of Nasdaq's point-to-point feeds
// (GLIMPSE among them): logical packets of a 2-byte big-endian length (the
// bytes after it: the type and the payload), a 1-byte type and a payload.
// Alpha fields are left-justified and padded on the right with spaces;
// numeric fields are ASCII digits right-justified and padded on the left
// with spaces. The server sends a heartbeat after 1 s without sending, and
// so does a logged-in client; either side may drop a peer silent for 15 s.
// Encoders append to a byte vector; Reader reassembles packets from a
// stream read in pieces. No I/O here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace fh::soup {

// Packet types, by who sends them.
namespace type {
inline constexpr char kDebug = '+';  // either side: text
// Server to client.
inline constexpr char kLoginAccepted = 'A';  // session (10), sequence number of the next message (20)
inline constexpr char kLoginRejected = 'J';  // reason (1)
inline constexpr char kSequencedData = 'S';  // one message of the higher-level protocol
inline constexpr char kServerHeartbeat = 'H';
inline constexpr char kEndOfSession = 'Z';
// Client to server.
inline constexpr char kLoginRequest = 'L';  // username (6), password (10), session (10), sequence (20)
inline constexpr char kUnsequencedData = 'U';
inline constexpr char kClientHeartbeat = 'R';
inline constexpr char kLogoutRequest = 'O';
}  // namespace type

inline constexpr size_t kUsernameLength = 6;
inline constexpr size_t kPasswordLength = 10;
inline constexpr size_t kSessionLength = 10;
inline constexpr size_t kSequenceLength = 20;
inline constexpr size_t kLoginRequestLength = kUsernameLength + kPasswordLength + kSessionLength + kSequenceLength;
inline constexpr size_t kLoginAcceptedLength = kSessionLength + kSequenceLength;

// Login Rejected's reason.
inline constexpr char kNotAuthorized = 'A';        // bad username or password
inline constexpr char kSessionNotAvailable = 'S';  // the session asked for is not there

inline constexpr int kHeartbeatMs = 1000;        // send one after this long without sending
inline constexpr int kSilenceTimeoutMs = 15000;  // a peer silent this long is gone

struct Packet {
  char type;
  std::span<const uint8_t> payload;
};

// Appends one packet; the payload is at most 65534 bytes.
void append(std::vector<uint8_t>& out, char type, std::span<const uint8_t> payload = {});
void appendLoginRequest(std::vector<uint8_t>& out, std::string_view username, std::string_view password,
                        std::string_view session, uint64_t sequence);
void appendLoginAccepted(std::vector<uint8_t>& out, std::string_view session, uint64_t sequence);
void appendLoginRejected(std::vector<uint8_t>& out, char reason);

struct LoginRequest {
  std::string username, password, session;  // trimmed; an empty session asks for the current one
  std::optional<uint64_t> sequence;         // blank: none given
};
struct LoginAccepted {
  std::string session;  // trimmed
  uint64_t sequence;    // of the next sequenced message the server will send
};
// nullopt when the payload has the wrong size or a field is not of its kind.
std::optional<LoginRequest> parseLoginRequest(std::span<const uint8_t> payload);
std::optional<LoginAccepted> parseLoginAccepted(std::span<const uint8_t> payload);

// Numeric and alpha fields.
void appendNumeric(std::vector<uint8_t>& out, uint64_t value, size_t width);       // right-justified, spaces
void appendAlpha(std::vector<uint8_t>& out, std::string_view text, size_t width);  // left-justified, spaces
// Digits after optional leading spaces, nothing else; nullopt when blank or malformed.
std::optional<uint64_t> parseNumeric(std::span<const uint8_t> field);
std::string trimAlpha(std::span<const uint8_t> field);

// Reassembles packets from a byte stream: put bytes in with add(), take whole
// packets out with next() until it says NeedMore. A packet whose length field
// is 0 (no type byte) is malformed: the stream cannot be trusted after it.
class Reader {
 public:
  enum class Status { Packet, NeedMore, Malformed };

  void add(std::span<const uint8_t> bytes);
  // The packet stays valid until the next add().
  Status next(Packet& packet);
  size_t buffered() const noexcept { return end_ - start_; }

 private:
  std::vector<uint8_t> buffer_;
  size_t start_ = 0, end_ = 0;
};

}  // namespace fh::soup
