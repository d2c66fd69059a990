#include "soup/soupbintcp.h"

#include <algorithm>
#include <cstring>

namespace fh::soup {

void append(std::vector<uint8_t>& out, char type, std::span<const uint8_t> payload) {
  const size_t length = 1 + std::min<size_t>(payload.size(), 0xFFFE);
  out.push_back(static_cast<uint8_t>(length >> 8));
  out.push_back(static_cast<uint8_t>(length));
  out.push_back(static_cast<uint8_t>(type));
  out.insert(out.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(length - 1));
}

void appendNumeric(std::vector<uint8_t>& out, uint64_t value, size_t width) {
  const std::string digits = std::to_string(value);
  const size_t shown = std::min(digits.size(), width);  // a value too wide keeps its low digits
  out.insert(out.end(), width - shown, ' ');
  out.insert(out.end(), digits.end() - static_cast<std::ptrdiff_t>(shown), digits.end());
}

void appendAlpha(std::vector<uint8_t>& out, std::string_view text, size_t width) {
  const size_t shown = std::min(text.size(), width);
  out.insert(out.end(), text.begin(), text.begin() + static_cast<std::ptrdiff_t>(shown));
  out.insert(out.end(), width - shown, ' ');
}

std::optional<uint64_t> parseNumeric(std::span<const uint8_t> field) {
  size_t i = 0;
  while (i < field.size() && field[i] == ' ') ++i;
  if (i == field.size()) return std::nullopt;
  uint64_t value = 0;
  for (; i < field.size(); ++i) {
    if (field[i] < '0' || field[i] > '9') return std::nullopt;
    const uint64_t digit = field[i] - '0';
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

std::string trimAlpha(std::span<const uint8_t> field) {
  size_t n = field.size();
  while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\0')) --n;
  return {reinterpret_cast<const char*>(field.data()), n};
}

void appendLoginRequest(std::vector<uint8_t>& out, std::string_view username, std::string_view password,
                        std::string_view session, uint64_t sequence) {
  std::vector<uint8_t> p;
  appendAlpha(p, username, kUsernameLength);
  appendAlpha(p, password, kPasswordLength);
  // The session is alphanumeric, padded on the left with spaces; blank asks for the current one.
  const size_t shown = std::min(session.size(), kSessionLength);
  p.insert(p.end(), kSessionLength - shown, ' ');
  p.insert(p.end(), session.begin(), session.begin() + static_cast<std::ptrdiff_t>(shown));
  appendNumeric(p, sequence, kSequenceLength);
  append(out, type::kLoginRequest, p);
}

void appendLoginAccepted(std::vector<uint8_t>& out, std::string_view session, uint64_t sequence) {
  std::vector<uint8_t> p;
  const size_t shown = std::min(session.size(), kSessionLength);
  p.insert(p.end(), kSessionLength - shown, ' ');
  p.insert(p.end(), session.begin(), session.begin() + static_cast<std::ptrdiff_t>(shown));
  appendNumeric(p, sequence, kSequenceLength);
  append(out, type::kLoginAccepted, p);
}

void appendLoginRejected(std::vector<uint8_t>& out, char reason) {
  const uint8_t r = static_cast<uint8_t>(reason);
  append(out, type::kLoginRejected, {&r, 1});
}

namespace {

// A session is padded on either side, by servers and clients alike.
std::string trimSession(std::span<const uint8_t> field) {
  size_t i = 0;
  while (i < field.size() && field[i] == ' ') ++i;
  return trimAlpha(field.subspan(i));
}

}  // namespace

std::optional<LoginRequest> parseLoginRequest(std::span<const uint8_t> payload) {
  if (payload.size() != kLoginRequestLength) return std::nullopt;
  LoginRequest r;
  r.username = trimAlpha(payload.subspan(0, kUsernameLength));
  r.password = trimAlpha(payload.subspan(kUsernameLength, kPasswordLength));
  r.session = trimSession(payload.subspan(kUsernameLength + kPasswordLength, kSessionLength));
  const auto sequence = payload.subspan(kUsernameLength + kPasswordLength + kSessionLength, kSequenceLength);
  r.sequence = parseNumeric(sequence);
  if (!r.sequence && std::any_of(sequence.begin(), sequence.end(), [](uint8_t c) { return c != ' '; }))
    return std::nullopt;  // neither blank nor a number
  return r;
}

std::optional<LoginAccepted> parseLoginAccepted(std::span<const uint8_t> payload) {
  if (payload.size() != kLoginAcceptedLength) return std::nullopt;
  const auto sequence = parseNumeric(payload.subspan(kSessionLength, kSequenceLength));
  if (!sequence) return std::nullopt;
  return LoginAccepted{trimSession(payload.subspan(0, kSessionLength)), *sequence};
}

void Reader::add(std::span<const uint8_t> bytes) {
  if (start_ == end_) start_ = end_ = 0;
  if (start_ > 0 && buffer_.size() - end_ < bytes.size()) {  // make room at the front first
    std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  if (buffer_.size() - end_ < bytes.size()) buffer_.resize(end_ + bytes.size());
  std::memcpy(buffer_.data() + end_, bytes.data(), bytes.size());
  end_ += bytes.size();
}

Reader::Status Reader::next(Packet& packet) {
  if (end_ - start_ < 2) return Status::NeedMore;
  const uint8_t* p = buffer_.data() + start_;
  const size_t length = size_t{p[0]} << 8 | p[1];
  if (length == 0) return Status::Malformed;
  if (end_ - start_ < 2 + length) return Status::NeedMore;
  packet.type = static_cast<char>(p[2]);
  packet.payload = {p + 3, length - 1};
  start_ += 2 + length;
  return Status::Packet;
}

}  // namespace fh::soup
