#include "connectors/action_payloads.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "connectors/percent_encoding.h"

namespace tw::connectors {
namespace {

using pipeline::ActionNotice;
using pipeline::ActionRequest;
using pipeline::EventTime;
using pipeline::Result;
using OrderedJson = nlohmann::ordered_json;

// Every JSON body goes through here: compact, and never throwing on bad UTF-8 (the inputs are
// already cleaned, so the handler is only a second line of defence).
std::string dump(const OrderedJson& value) {
  return value.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

// ---- UTF-8 ------------------------------------------------------------------------------------

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";

// The length of the UTF-8 sequence starting at `i` and whether it is valid. An invalid sequence
// is its maximal valid prefix (at least one byte), so that a truncated multi-byte character
// becomes one U+FFFD, as WHATWG and ICU count it.
size_t utf8_sequence(std::string_view text, size_t i, bool& valid) {
  const auto byte = [&](size_t k) {
    return static_cast<unsigned char>(text[k]);
  };
  const unsigned lead = byte(i);
  valid = false;
  if (lead < 0x80U) {
    valid = true;
    return 1;
  }
  size_t need = 0;
  unsigned low = 0x80U;
  unsigned high = 0xBFU;
  if (lead >= 0xC2U && lead <= 0xDFU) {
    need = 1;
  } else if (lead == 0xE0U) {
    need = 2;
    low = 0xA0U;
  } else if ((lead >= 0xE1U && lead <= 0xECU) || lead == 0xEEU || lead == 0xEFU) {
    need = 2;
  } else if (lead == 0xEDU) {
    need = 2;
    high = 0x9FU;  // U+D800..U+DFFF are surrogates, not characters.
  } else if (lead == 0xF0U) {
    need = 3;
    low = 0x90U;
  } else if (lead >= 0xF1U && lead <= 0xF3U) {
    need = 3;
  } else if (lead == 0xF4U) {
    need = 3;
    high = 0x8FU;  // Nothing above U+10FFFF.
  } else {
    return 1;
  }
  for (size_t k = 1; k <= need; ++k) {
    if (i + k >= text.size()) {
      return k;
    }
    const unsigned b = byte(i + k);
    const unsigned lo = k == 1 ? low : 0x80U;
    const unsigned hi = k == 1 ? high : 0xBFU;
    if (b < lo || b > hi) {
      return k;
    }
  }
  valid = true;
  return need + 1;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool valid = false;
    const size_t n = utf8_sequence(text, i, valid);
    if (valid) {
      out.append(text.substr(i, n));
    } else {
      out.append(kReplacementCharacter);
    }
    i += n;
  }
  return out;
}

bool is_continuation_byte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0U) == 0x80U;
}

// The first `max_chars` code points of valid UTF-8 `text`.
std::string truncate_chars(std::string text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!is_continuation_byte(text[i])) {
      if (chars == max_chars) {
        text.resize(i);
        break;
      }
      ++chars;
    }
  }
  return text;
}

// Cuts valid UTF-8 `text` to at most `max_bytes` bytes without splitting a character.
std::string truncate_bytes(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return text;
  }
  size_t end = max_bytes;
  while (end > 0 && is_continuation_byte(text[end])) {
    --end;
  }
  text.resize(end);
  return text;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80U) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800U) {
    out.push_back(static_cast<char>(0xC0U | (cp >> 6U)));
    out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
  } else if (cp < 0x10000U) {
    out.push_back(static_cast<char>(0xE0U | (cp >> 12U)));
    out.push_back(static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU)));
    out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
  } else {
    out.push_back(static_cast<char>(0xF0U | (cp >> 18U)));
    out.push_back(static_cast<char>(0x80U | ((cp >> 12U) & 0x3FU)));
    out.push_back(static_cast<char>(0x80U | ((cp >> 6U) & 0x3FU)));
    out.push_back(static_cast<char>(0x80U | (cp & 0x3FU)));
  }
}

// Line breaks and other control characters would break a one-line summary (and a Slack or
// PagerDuty title); a space keeps the words apart.
std::string one_line(std::string text) {
  for (char& c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20U || u == 0x7FU) {
      c = ' ';
    }
  }
  return text;
}

// ---- Hashing -----------------------------------------------------------------------------------

// SipHash-2-4: small, well studied, and stable across compilers and machines, unlike std::hash.
// The keys are fixed: the ids only need to be stable and well spread, not secret.
uint64_t siphash24(uint64_t k0, uint64_t k1, std::string_view data) {
  uint64_t v0 = 0x736f6d6570736575ULL ^ k0;
  uint64_t v1 = 0x646f72616e646f6dULL ^ k1;
  uint64_t v2 = 0x6c7967656e657261ULL ^ k0;
  uint64_t v3 = 0x7465646279746573ULL ^ k1;
  const auto round = [&] {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  };
  const size_t n = data.size();
  const size_t whole = n - n % 8;
  for (size_t i = 0; i < whole; i += 8) {
    uint64_t m = 0;
    for (size_t k = 0; k < 8; ++k) {
      m |= static_cast<uint64_t>(static_cast<unsigned char>(data[i + k])) << (8U * k);
    }
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  uint64_t last = static_cast<uint64_t>(n) << 56U;
  for (size_t k = 0; k < n % 8; ++k) {
    last |= static_cast<uint64_t>(static_cast<unsigned char>(data[whole + k])) << (8U * k);
  }
  v3 ^= last;
  round();
  round();
  v0 ^= last;
  v2 ^= 0xffU;
  round();
  round();
  round();
  round();
  return v0 ^ v1 ^ v2 ^ v3;
}

constexpr uint64_t kIdKey0 = 0x7472'6169'6c77'6174ULL;  // "trailwat"
constexpr uint64_t kIdKey1 = 0x6368'2d61'6374'696fULL;  // "ch-actio"
constexpr uint64_t kIdKey2 = 0x6e2d'6d65'7373'6167ULL;  // "n-messag"
constexpr uint64_t kIdKey3 = 0x652d'6964'2d76'3031ULL;  // "e-id-v01"

std::string hex(uint64_t value, int digits) {
  static constexpr std::string_view kDigits = "0123456789abcdef";
  std::string out(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = kDigits[value & 0xFU];
    value >>= 4U;
  }
  return out;
}

// ---- Webhook text ------------------------------------------------------------------------------

constexpr std::string_view kStateAlarm = "ALARM";
constexpr std::string_view kStateOk = "OK";
constexpr std::string_view kStateInsufficientData = "INSUFFICIENT_DATA";
constexpr std::string_view kHeadlineSeparator = " \xE2\x80\x94 ";  // " — "
constexpr size_t kSnsSubjectMaxChars = 100;
constexpr size_t kPagerDutySummaryMaxChars = 1024;
constexpr size_t kPagerDutyDedupKeyMaxBytes = 255;

std::string headline_and_reason(const ActionNotice& notice) {
  std::string text = notice_headline(notice);
  if (!notice.reason.empty()) {
    text.append(kHeadlineSeparator);
    text.append(valid_utf8(notice.reason));
  }
  return text;
}

std::string slack_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

bool header_safe(std::string_view value) {
  return !value.empty() && value.find_first_of("\r\n") == std::string_view::npos;
}

WebhookBody json_body(std::string body) {
  return {.content_type = std::string(kJsonContentType), .body = std::move(body), .headers = {}};
}

WebhookBody sns_body(const ActionRequest& request, const WebhookContext& ctx) {
  const ActionNotice& notice = request.notice;
  std::string topic = valid_utf8(ctx.topic_arn);
  if (topic.empty() && parse_sns_topic_arn(request.action).has_value()) {
    topic = request.action;
  }
  const std::string id = action_message_id(request.key);
  OrderedJson j;
  j["Type"] = "Notification";
  j["MessageId"] = id;
  if (!topic.empty()) {
    j["TopicArn"] = topic;
  }
  if (!notice.sns_subject.empty()) {
    j["Subject"] = truncate_chars(valid_utf8(notice.sns_subject), kSnsSubjectMaxChars);
  }
  j["Message"] = valid_utf8(notice.sns_message);
  j["Timestamp"] = pipeline::format_iso8601_millis(ctx.now);
  WebhookBody out{
      .content_type = std::string(kSnsNotificationContentType),
      .body = dump(j),
      .headers = {{"x-amz-sns-message-type", "Notification"}, {"x-amz-sns-message-id", id}}};
  if (header_safe(topic)) {
    out.headers.push_back({"x-amz-sns-topic-arn", topic});
  }
  return out;
}

std::optional<WebhookBody> alertmanager_webhook(const ActionRequest& request,
                                                const WebhookContext& ctx) {
  const ActionNotice& notice = request.notice;
  EventTime starts_at;
  EventTime ends_at;
  if (notice.new_state == kStateAlarm) {
    starts_at = notice.state_change_time;
    ends_at = std::max(ctx.now, starts_at) + ctx.alertmanager_ends_after;
  } else if (notice.old_state == kStateAlarm) {
    ends_at = notice.state_change_time;
    starts_at = std::min(ctx.alertmanager_firing_since.value_or(ends_at), ends_at);
  } else {
    // Between OK and INSUFFICIENT_DATA there is no alert: posting a resolved one would only
    // create an entry Alertmanager never showed as firing.
    return std::nullopt;
  }
  return json_body(alertmanager_body(notice, starts_at, ends_at, ctx.generator_url));
}

std::optional<WebhookBody> pagerduty_webhook(const ActionRequest& request,
                                             const WebhookContext& ctx) {
  const ActionNotice& notice = request.notice;
  const std::string& key = ctx.pagerduty_routing_key;
  const std::string& url = ctx.pagerduty_client_url;
  if (notice.new_state == kStateAlarm) {
    return json_body(
        pagerduty_event(notice, PagerDutyAction::kTrigger, key, ctx.pagerduty_severity, url));
  }
  if (notice.new_state == kStateInsufficientData) {
    return json_body(pagerduty_event(notice, PagerDutyAction::kTrigger, key,
                                     ctx.pagerduty_insufficient_data_severity, url));
  }
  if (notice.new_state == kStateOk) {
    return json_body(pagerduty_event(notice, PagerDutyAction::kResolve, key, {}, {}));
  }
  return std::nullopt;
}

// ---- Form encoding -----------------------------------------------------------------------------

void append_form_component(std::string& out, std::string_view text) {
  append_percent_encoded(out, text, /*keep_slash=*/false, /*space_as_plus=*/true);
}

std::string_view query_bool(bool value) {
  return value ? "true" : "false";
}

// ---- ARNs --------------------------------------------------------------------------------------

struct ArnParts {
  std::string_view partition;
  std::string_view service;
  std::string_view region;
  std::string_view account;
  std::string_view resource;
};

bool all_of_chars(std::string_view text, bool (*pred)(char)) {
  return std::all_of(text.begin(), text.end(), pred);
}

bool is_lower_alnum_or_dash(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool valid_partition_or_region(std::string_view text) {
  return !text.empty() && all_of_chars(text, is_lower_alnum_or_dash);
}

bool valid_account(std::string_view text) {
  return text.size() == 12 && all_of_chars(text, is_digit);
}

// `arn:partition:service:region:account:resource`; the resource may hold more colons.
std::optional<ArnParts> split_arn(std::string_view arn) {
  constexpr std::string_view kPrefix = "arn:";
  if (!arn.starts_with(kPrefix)) {
    return std::nullopt;
  }
  std::array<std::string_view, 4> fields;
  std::string_view rest = arn.substr(kPrefix.size());
  for (std::string_view& field : fields) {
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos) {
      return std::nullopt;
    }
    field = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  if (!valid_partition_or_region(fields[0])) {
    return std::nullopt;
  }
  return ArnParts{fields[0], fields[1], fields[2], fields[3], rest};
}

// ---- XML ---------------------------------------------------------------------------------------

constexpr size_t kNone = std::string_view::npos;
constexpr size_t kMaxXmlDepth = 64;

bool is_xml_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view local_name(std::string_view name) {
  const size_t colon = name.rfind(':');
  return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

// The '>' closing a tag whose name ends at `from`; quotes in attribute values may hold '>'.
size_t find_tag_end(std::string_view xml, size_t from) {
  for (size_t i = from; i < xml.size(); ++i) {
    const char c = xml[i];
    if (c == '"' || c == '\'') {
      const size_t close = xml.find(c, i + 1);
      if (close == kNone) {
        return kNone;
      }
      i = close;
    } else if (c == '>') {
      return i;
    }
  }
  return kNone;
}

// Where the markup starting at `lt` ends (one past its last byte), for comments, CDATA,
// processing instructions and declarations; kNone when it is not closed. `cdata` is set to the
// character data of a CDATA section.
size_t skip_special(std::string_view xml, size_t lt, std::string_view* cdata) {
  const std::string_view rest = xml.substr(lt);
  const auto skip_to = [&](std::string_view open, std::string_view close) -> size_t {
    const size_t end = xml.find(close, lt + open.size());
    return end == kNone ? kNone : end + close.size();
  };
  if (rest.starts_with("<!--")) {
    return skip_to("<!--", "-->");
  }
  if (rest.starts_with("<![CDATA[")) {
    const size_t end = skip_to("<![CDATA[", "]]>");
    if (end != kNone && cdata != nullptr) {
      *cdata = xml.substr(lt + 9, end - 3 - (lt + 9));
    }
    return end;
  }
  if (rest.starts_with("<?")) {
    return skip_to("<?", "?>");
  }
  // `<!DOCTYPE …>` and other declarations. An internal subset is not understood (its entities
  // are never expanded); what follows its first '>' reads as text, which is harmless.
  return skip_to("<!", ">");
}

// Decodes one reference starting at `amp` into `out`; returns the bytes consumed, or 0 when the
// text there is not a reference (the '&' then stands for itself).
size_t decode_reference(std::string_view text, size_t amp, std::string& out) {
  constexpr size_t kMaxReference = 16;
  const size_t semi = text.substr(amp, kMaxReference).find(';');
  if (semi == kNone) {
    return 0;
  }
  const std::string_view name = text.substr(amp + 1, semi - 1);
  static constexpr std::array<std::pair<std::string_view, char>, 5> kPredefined = {
      {{"lt", '<'}, {"gt", '>'}, {"amp", '&'}, {"quot", '"'}, {"apos", '\''}}};
  for (const auto& [entity, c] : kPredefined) {
    if (name == entity) {
      out.push_back(c);
      return semi + 1;
    }
  }
  if (name.size() < 2 || name[0] != '#') {
    return 0;
  }
  const bool is_hex = name[1] == 'x' || name[1] == 'X';
  const std::string_view digits = name.substr(is_hex ? 2 : 1);
  if (digits.empty()) {
    return 0;
  }
  uint64_t cp = 0;
  const auto [end, error] =
      std::from_chars(digits.data(), digits.data() + digits.size(), cp, is_hex ? 16 : 10);
  if (end != digits.data() + digits.size()) {
    return 0;
  }
  if (error == std::errc::result_out_of_range) {
    cp = UINT64_MAX;  // All digits, but too many of them: a reference to nothing.
  }
  if (cp == 0 || cp > 0x10FFFFU || (cp >= 0xD800U && cp <= 0xDFFFU)) {
    out.append(kReplacementCharacter);
  } else {
    append_utf8(out, static_cast<uint32_t>(cp));
  }
  return semi + 1;
}

/// A flat index of a document's elements in document order. Element i's descendants are the
/// elements after it up to the first one no deeper than i, which is what makes every lookup a
/// forward scan without recursion.
class XmlIndex {
 public:
  struct Element {
    std::string_view name;  // Local name.
    size_t depth = 0;
    size_t content_begin = 0;
    size_t content_end = kNone;  // kNone while (or if never) closed.
  };

  explicit XmlIndex(std::string_view xml) : xml_(xml) { parse(); }

  // The first element named `name` inside `scope` (kNone: the whole document).
  [[nodiscard]] size_t find(std::string_view name, size_t scope = kNone) const {
    if (too_deep_) {
      return kNone;
    }
    const size_t begin = scope == kNone ? 0 : scope + 1;
    const size_t end = scope == kNone ? elements_.size() : subtree_end(scope);
    for (size_t i = begin; i < end; ++i) {
      if (elements_[i].name == name) {
        return i;
      }
    }
    return kNone;
  }

  [[nodiscard]] size_t subtree_end(size_t index) const {
    size_t i = index + 1;
    while (i < elements_.size() && elements_[i].depth > elements_[index].depth) {
      ++i;
    }
    return i;
  }

  [[nodiscard]] const std::vector<Element>& elements() const { return elements_; }

  [[nodiscard]] bool closed(size_t index) const {
    return index != kNone && elements_[index].content_end != kNone;
  }

  // The character data of a closed element.
  [[nodiscard]] std::optional<std::string> text(size_t index) const {
    if (!closed(index)) {
      return std::nullopt;
    }
    const Element& e = elements_[index];
    const std::string_view content = xml_.substr(e.content_begin, e.content_end - e.content_begin);
    std::string out;
    size_t i = 0;
    while (i < content.size()) {
      const char c = content[i];
      if (c == '<') {
        std::string_view cdata;
        size_t end = kNone;
        if (content.substr(i).starts_with("<!") || content.substr(i).starts_with("<?")) {
          end = skip_special(content, i, &cdata);
          out.append(cdata);
        } else {
          const size_t gt = find_tag_end(content, i + 1);
          end = gt == kNone ? kNone : gt + 1;
        }
        if (end == kNone) {
          break;
        }
        i = end;
      } else if (c == '&') {
        const size_t used = decode_reference(content, i, out);
        if (used == 0) {
          out.push_back('&');
          ++i;
        } else {
          i += used;
        }
      } else {
        out.push_back(c);
        ++i;
      }
    }
    size_t first = 0;
    while (first < out.size() && is_xml_space(out[first])) {
      ++first;
    }
    size_t last = out.size();
    while (last > first && is_xml_space(out[last - 1])) {
      --last;
    }
    return valid_utf8(std::string_view(out).substr(first, last - first));
  }

  // The text at `path` ("A/B/C") below `scope`.
  [[nodiscard]] std::optional<std::string> text_at(std::string_view path,
                                                   size_t scope = kNone) const {
    if (path.empty()) {
      return std::nullopt;
    }
    size_t at = scope;
    while (true) {
      const size_t slash = path.find('/');
      at = find(path.substr(0, slash), at);
      if (at == kNone) {
        return std::nullopt;
      }
      if (slash == std::string_view::npos) {
        return text(at);
      }
      path.remove_prefix(slash + 1);
    }
  }

 private:
  void parse() {
    std::vector<size_t> open;
    size_t pos = 0;
    while (true) {
      const size_t lt = xml_.find('<', pos);
      if (lt == kNone || lt + 1 >= xml_.size()) {
        return;
      }
      const char next = xml_[lt + 1];
      if (next == '!' || next == '?') {
        const size_t end = skip_special(xml_, lt, nullptr);
        if (end == kNone) {
          return;
        }
        pos = end;
        continue;
      }
      const bool closing = next == '/';
      const size_t name_begin = lt + (closing ? 2 : 1);
      size_t name_end = name_begin;
      while (name_end < xml_.size() && !is_xml_space(xml_[name_end]) && xml_[name_end] != '/' &&
             xml_[name_end] != '>' && xml_[name_end] != '<') {
        ++name_end;
      }
      const std::string_view name = local_name(xml_.substr(name_begin, name_end - name_begin));
      if (name.empty() && !closing) {
        pos = lt + 1;  // A stray '<' in text.
        continue;
      }
      const size_t gt = find_tag_end(xml_, name_end);
      if (gt == kNone) {
        return;  // Truncated inside a tag: what is open stays unclosed.
      }
      pos = gt + 1;
      if (closing) {
        // Close the nearest open element of that name; any opened after it were never closed
        // and stay untrusted. A closing tag matching nothing is ignored.
        for (size_t k = open.size(); k-- > 0;) {
          if (elements_[open[k]].name == name) {
            elements_[open[k]].content_end = lt;
            open.resize(k);
            break;
          }
        }
        continue;
      }
      if (open.size() >= kMaxXmlDepth) {
        too_deep_ = true;
        return;
      }
      const bool self_closing = xml_[gt - 1] == '/';
      elements_.push_back({.name = name,
                           .depth = open.size(),
                           .content_begin = gt + 1,
                           .content_end = self_closing ? gt + 1 : kNone});
      if (!self_closing) {
        open.push_back(elements_.size() - 1);
      }
    }
  }

  std::string_view xml_;
  std::vector<Element> elements_;
  bool too_deep_ = false;
};

int parse_state_code(const std::optional<std::string>& text) {
  if (!text.has_value()) {
    return -1;
  }
  unsigned code = 0;
  const auto result = std::from_chars(text->data(), text->data() + text->size(), code);
  if (result.ec != std::errc() || result.ptr != text->data() + text->size()) {
    return -1;
  }
  // The high byte carries internal EC2 information; only the low byte is the state.
  return static_cast<int>(code & 0xFFU);
}

// ---- Kubernetes JSON ---------------------------------------------------------------------------

using Json = nlohmann::json;

std::optional<Json> parse_json_object(std::string_view text) {
  Json doc = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return std::nullopt;
  }
  return doc;
}

// `object[key]` as an int: unset when absent or null, an error for any other type or range.
pipeline::Status read_int(const Json& object, std::string_view key, std::string_view what,
                          std::optional<int>& out) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return pipeline::Status::ok();
  }
  if (it->is_number_unsigned()) {
    const auto value = it->get<uint64_t>();
    if (value > static_cast<uint64_t>(INT_MAX)) {
      return pipeline::out_of_range(std::string(what) + " is out of range");
    }
    out = static_cast<int>(value);
    return pipeline::Status::ok();
  }
  if (it->is_number_integer()) {
    const auto value = it->get<int64_t>();
    if (value < INT_MIN || value > INT_MAX) {
      return pipeline::out_of_range(std::string(what) + " is out of range");
    }
    out = static_cast<int>(value);
    return pipeline::Status::ok();
  }
  return pipeline::invalid_argument(std::string(what) + " is not an integer");
}

// `object[key]` when it is an object; nullptr when absent or null; an error for another type.
pipeline::Status child_object(const Json& object, std::string_view key, const Json*& out) {
  out = nullptr;
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    return pipeline::Status::ok();
  }
  if (!it->is_object()) {
    return pipeline::invalid_argument(std::string(key) + " is not an object");
  }
  out = &*it;
  return pipeline::Status::ok();
}

Result<KubernetesScale> parse_scale_document(const Json& doc) {
  KubernetesScale scale;
  const Json* spec = nullptr;
  TW_RETURN_IF_ERROR(child_object(doc, "spec", spec));
  if (spec != nullptr) {
    TW_RETURN_IF_ERROR(read_int(*spec, "replicas", "spec.replicas", scale.spec_replicas));
  }
  const Json* status = nullptr;
  TW_RETURN_IF_ERROR(child_object(doc, "status", status));
  if (status != nullptr) {
    TW_RETURN_IF_ERROR(read_int(*status, "replicas", "status.replicas", scale.status_replicas));
  }
  const Json* metadata = nullptr;
  TW_RETURN_IF_ERROR(child_object(doc, "metadata", metadata));
  if (metadata != nullptr) {
    const auto it = metadata->find("resourceVersion");
    if (it != metadata->end() && !it->is_null()) {
      if (!it->is_string()) {
        return pipeline::invalid_argument("metadata.resourceVersion is not a string");
      }
      scale.resource_version = it->get<std::string>();
    }
  }
  return scale;
}

}  // namespace

// ---- Shared ------------------------------------------------------------------------------------

std::string action_message_id(std::string_view key) {
  uint64_t high = siphash24(kIdKey0, kIdKey1, key);
  uint64_t low = siphash24(kIdKey2, kIdKey3, key);
  high = (high & ~uint64_t{0xF000}) | uint64_t{0x8000};            // Version 8.
  low = (low & ~(uint64_t{0xC} << 60U)) | (uint64_t{0x8} << 60U);  // RFC 9562 variant.
  std::string id = hex(high, 16) + hex(low, 16);
  id.insert(20, 1, '-');
  id.insert(16, 1, '-');
  id.insert(12, 1, '-');
  id.insert(8, 1, '-');
  return id;
}

// ---- Webhooks ----------------------------------------------------------------------------------

std::string_view to_string(WebhookFormat format) {
  switch (format) {
    case WebhookFormat::kEventBridge:
      return "eventbridge";
    case WebhookFormat::kSns:
      return "sns";
    case WebhookFormat::kAlertmanager:
      return "alertmanager";
    case WebhookFormat::kSlack:
      return "slack";
    case WebhookFormat::kPagerDuty:
      return "pagerduty";
  }
  return "unknown";
}

std::optional<WebhookFormat> parse_webhook_format(std::string_view text) {
  for (const WebhookFormat format :
       {WebhookFormat::kEventBridge, WebhookFormat::kSns, WebhookFormat::kAlertmanager,
        WebhookFormat::kSlack, WebhookFormat::kPagerDuty}) {
    if (text == to_string(format)) {
      return format;
    }
  }
  return std::nullopt;
}

std::optional<WebhookBody> webhook_body(WebhookFormat format, const ActionRequest& request,
                                        const WebhookContext& ctx) {
  switch (format) {
    case WebhookFormat::kEventBridge:
      return json_body(valid_utf8(request.notice.event_json));
    case WebhookFormat::kSns:
      return sns_body(request, ctx);
    case WebhookFormat::kAlertmanager:
      return alertmanager_webhook(request, ctx);
    case WebhookFormat::kSlack: {
      OrderedJson j;
      j["text"] = slack_escape(headline_and_reason(request.notice));
      return json_body(dump(j));
    }
    case WebhookFormat::kPagerDuty:
      return pagerduty_webhook(request, ctx);
  }
  return std::nullopt;
}

std::string notice_headline(const ActionNotice& notice) {
  std::string text = valid_utf8(notice.new_state);
  text.append(": \"");
  text.append(valid_utf8(notice.alarm_name));
  text.push_back('"');
  if (!notice.region.empty()) {
    text.append(" in ");
    text.append(valid_utf8(notice.region));
  }
  return one_line(std::move(text));
}

std::string prometheus_label_name(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  size_t i = 0;
  while (i < name.size()) {
    bool valid = false;
    const size_t n = utf8_sequence(name, i, valid);
    const char c = name[i];
    const bool keep = n == 1 && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                 (c >= '0' && c <= '9') || c == '_');
    out.push_back(keep ? c : '_');
    i += n;
  }
  if (out.empty() || is_digit(out[0])) {
    out.insert(out.begin(), '_');
  }
  if (out.starts_with("__")) {
    out.insert(out.begin(), 'x');
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> alertmanager_labels(const ActionNotice& notice) {
  std::vector<std::pair<std::string, std::string>> labels;
  const auto add = [&labels](std::string name, std::string_view value) {
    if (value.empty()) {
      return;
    }
    const bool taken = std::any_of(labels.begin(), labels.end(),
                                   [&](const auto& label) { return label.first == name; });
    if (!taken) {
      labels.emplace_back(std::move(name), valid_utf8(value));
    }
  };
  add("alertname", notice.alarm_name);
  add("source", "trailwatch");
  add("region", notice.region);
  add("account_id", notice.account_id);
  for (const auto& [name, value] : notice.dimensions) {
    add(prometheus_label_name(name), value);
  }
  for (const auto& [name, value] : notice.tags) {
    add(prometheus_label_name(name), value);
  }
  return labels;
}

std::string alertmanager_body(const ActionNotice& notice, EventTime starts_at, EventTime ends_at,
                              std::string_view generator_url) {
  OrderedJson labels = OrderedJson::object();
  for (auto& [name, value] : alertmanager_labels(notice)) {
    labels[name] = std::move(value);
  }
  OrderedJson annotations = OrderedJson::object();
  const auto annotate = [&annotations](const char* name, std::string_view value) {
    if (!value.empty()) {
      annotations[name] = valid_utf8(value);
    }
  };
  annotate("summary", notice_headline(notice));
  annotate("description", notice.alarm_description);
  annotate("reason", notice.reason);
  annotate("reason_data", notice.reason_data);
  annotate("state", notice.new_state);
  annotate("previous_state", notice.old_state);
  annotate("alarm_arn", notice.alarm_arn);
  OrderedJson alert;
  alert["labels"] = std::move(labels);
  alert["annotations"] = std::move(annotations);
  alert["startsAt"] = pipeline::format_iso8601_millis(starts_at);
  alert["endsAt"] = pipeline::format_iso8601_millis(ends_at);
  if (!generator_url.empty()) {
    alert["generatorURL"] = valid_utf8(generator_url);
  }
  return dump(OrderedJson::array({std::move(alert)}));
}

std::string pagerduty_dedup_key(const ActionNotice& notice) {
  std::string key = "trailwatch/";
  key.append(valid_utf8(notice.alarm_arn.empty() ? notice.alarm_name : notice.alarm_arn));
  if (key.size() <= kPagerDutyDedupKeyMaxBytes) {
    return key;
  }
  // Bytes, not characters: at most 255 bytes is at most 255 characters, whatever PagerDuty
  // counts.
  const std::string suffix = "/" + hex(siphash24(kIdKey0, kIdKey1, key), 16);
  return truncate_bytes(key, kPagerDutyDedupKeyMaxBytes - suffix.size()) + suffix;
}

std::string pagerduty_event(const ActionNotice& notice, PagerDutyAction action,
                            std::string_view routing_key, std::string_view severity,
                            std::string_view client_url) {
  OrderedJson event;
  event["routing_key"] = valid_utf8(routing_key);
  event["event_action"] = action == PagerDutyAction::kTrigger ? "trigger" : "resolve";
  event["dedup_key"] = pagerduty_dedup_key(notice);
  if (action == PagerDutyAction::kResolve) {
    return dump(event);
  }
  std::string source;
  for (const auto& [name, value] : notice.dimensions) {
    if (name == "InstanceId" && !value.empty()) {
      source = valid_utf8(value);
      break;
    }
  }
  if (source.empty()) {
    source = valid_utf8(!notice.alarm_arn.empty()    ? notice.alarm_arn
                        : !notice.alarm_name.empty() ? notice.alarm_name
                                                     : "trailwatch");
  }
  OrderedJson details;
  details["alarmName"] = valid_utf8(notice.alarm_name);
  details["alarmArn"] = valid_utf8(notice.alarm_arn);
  if (!notice.alarm_description.empty()) {
    details["alarmDescription"] = valid_utf8(notice.alarm_description);
  }
  details["awsAccountId"] = valid_utf8(notice.account_id);
  details["region"] = valid_utf8(notice.region);
  details["newStateValue"] = valid_utf8(notice.new_state);
  details["oldStateValue"] = valid_utf8(notice.old_state);
  details["newStateReason"] = valid_utf8(notice.reason);
  if (!notice.reason_data.empty()) {
    details["newStateReasonData"] = valid_utf8(notice.reason_data);
  }
  details["stateChangeTime"] = pipeline::format_iso8601_millis(notice.state_change_time);
  if (!notice.namespace_name.empty()) {
    details["namespace"] = valid_utf8(notice.namespace_name);
  }
  if (!notice.metric_name.empty()) {
    details["metricName"] = valid_utf8(notice.metric_name);
  }
  const auto add_map = [&details](const char* key,
                                  const std::vector<std::pair<std::string, std::string>>& pairs) {
    if (pairs.empty()) {
      return;
    }
    OrderedJson map = OrderedJson::object();
    for (const auto& [name, value] : pairs) {
      const std::string clean_name = valid_utf8(name);
      if (!map.contains(clean_name)) {
        map[clean_name] = valid_utf8(value);
      }
    }
    details[key] = std::move(map);
  };
  add_map("dimensions", notice.dimensions);
  if (notice.threshold.has_value()) {
    details["threshold"] = *notice.threshold;
  }
  add_map("tags", notice.tags);

  OrderedJson payload;
  payload["summary"] =
      truncate_chars(one_line(headline_and_reason(notice)), kPagerDutySummaryMaxChars);
  payload["source"] = std::move(source);
  payload["severity"] = valid_utf8(severity);
  payload["timestamp"] = pipeline::format_iso8601_millis(notice.state_change_time);
  if (!notice.namespace_name.empty()) {
    payload["component"] = valid_utf8(notice.namespace_name);
  }
  if (!notice.region.empty()) {
    payload["group"] = valid_utf8(notice.region);
  }
  payload["class"] = notice.composite ? "composite-alarm" : "metric-alarm";
  payload["custom_details"] = std::move(details);
  event["payload"] = std::move(payload);
  event["client"] = "trailwatch";
  if (!client_url.empty()) {
    event["client_url"] = valid_utf8(client_url);
  }
  return dump(event);
}

// ---- AWS Query bodies --------------------------------------------------------------------------

std::string form_encode(const FormParams& params) {
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) {
      out.push_back('&');
    }
    append_form_component(out, key);
    out.push_back('=');
    append_form_component(out, value);
  }
  return out;
}

std::string aws_query_double(double value) {
  if (std::isnan(value)) {
    return "nan";
  }
  if (std::isinf(value)) {
    return value < 0 ? "-inf" : "inf";
  }
  // The shortest round-trip digits come from to_chars; the layout is Python's repr: fixed
  // notation for decimal exponents -4..15 (with ".0" on integral values), scientific otherwise.
  std::array<char, 64> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                    std::chars_format::scientific);
  const std::string_view sci(buffer.data(), static_cast<size_t>(result.ptr - buffer.data()));
  const size_t e = sci.find('e');
  std::string_view mantissa = sci.substr(0, e);
  std::string out;
  if (mantissa.starts_with('-')) {
    out.push_back('-');
    mantissa.remove_prefix(1);
  }
  std::string digits;
  for (const char c : mantissa) {
    if (c != '.') {
      digits.push_back(c);
    }
  }
  int exponent = 0;
  const std::string_view exp_text = sci.substr(e + 1);
  const size_t exp_digits = exp_text.starts_with('+') ? 1 : 0;
  const auto parsed =
      std::from_chars(exp_text.data() + exp_digits, exp_text.data() + exp_text.size(), exponent);
  if (parsed.ec != std::errc() || digits.empty()) {
    return std::string(sci);  // Cannot happen for to_chars output; never index past it anyway.
  }
  if (exponent >= -4 && exponent < 16) {
    if (exponent < 0) {
      out.append("0.");
      out.append(static_cast<size_t>(-exponent - 1), '0');
      out.append(digits);
    } else {
      const auto int_digits = static_cast<size_t>(exponent) + 1;
      if (digits.size() <= int_digits) {
        out.append(digits);
        out.append(int_digits - digits.size(), '0');
        out.append(".0");
      } else {
        out.append(digits.substr(0, int_digits));
        out.push_back('.');
        out.append(digits.substr(int_digits));
      }
    }
    return out;
  }
  out.push_back(digits[0]);
  if (digits.size() > 1) {
    out.push_back('.');
    out.append(digits.substr(1));
  }
  out.push_back('e');
  out.push_back(exponent < 0 ? '-' : '+');
  const std::string magnitude = std::to_string(exponent < 0 ? -exponent : exponent);
  if (magnitude.size() < 2) {
    out.push_back('0');
  }
  out.append(magnitude);
  return out;
}

std::string_view ec2_action_name(Ec2Operation op) {
  switch (op) {
    case Ec2Operation::kStop:
      return "StopInstances";
    case Ec2Operation::kTerminate:
      return "TerminateInstances";
    case Ec2Operation::kReboot:
      return "RebootInstances";
  }
  return "StopInstances";
}

std::string ec2_instances_body(Ec2Operation op, const std::vector<std::string>& instance_ids,
                               bool dry_run) {
  FormParams params = {{"Action", std::string(ec2_action_name(op))}, {"Version", "2016-11-15"}};
  for (size_t i = 0; i < instance_ids.size(); ++i) {
    params.emplace_back("InstanceId." + std::to_string(i + 1), instance_ids[i]);
  }
  if (dry_run) {
    params.emplace_back("DryRun", "true");
  }
  return form_encode(params);
}

std::string autoscaling_execute_policy_body(std::string_view group,
                                            std::string_view policy_name_or_arn,
                                            std::optional<bool> honor_cooldown,
                                            std::optional<double> metric_value,
                                            std::optional<double> breach_threshold) {
  FormParams params = {{"Action", "ExecutePolicy"}, {"Version", "2011-01-01"}};
  if (!group.empty()) {
    params.emplace_back("AutoScalingGroupName", group);
  }
  params.emplace_back("PolicyName", policy_name_or_arn);
  if (honor_cooldown.has_value()) {
    params.emplace_back("HonorCooldown", query_bool(*honor_cooldown));
  }
  if (metric_value.has_value()) {
    params.emplace_back("MetricValue", aws_query_double(*metric_value));
  }
  if (breach_threshold.has_value()) {
    params.emplace_back("BreachThreshold", aws_query_double(*breach_threshold));
  }
  return form_encode(params);
}

std::string autoscaling_set_desired_capacity_body(std::string_view group, int desired_capacity,
                                                  std::optional<bool> honor_cooldown) {
  FormParams params = {{"Action", "SetDesiredCapacity"},
                       {"Version", "2011-01-01"},
                       {"AutoScalingGroupName", std::string(group)},
                       {"DesiredCapacity", std::to_string(desired_capacity)}};
  if (honor_cooldown.has_value()) {
    params.emplace_back("HonorCooldown", query_bool(*honor_cooldown));
  }
  return form_encode(params);
}

std::string sts_assume_role_with_web_identity_body(std::string_view role_arn,
                                                   std::string_view session_name,
                                                   std::string_view web_identity_token,
                                                   std::optional<int> duration_seconds) {
  FormParams params = {{"Action", "AssumeRoleWithWebIdentity"},
                       {"Version", "2011-06-15"},
                       {"RoleArn", std::string(role_arn)},
                       {"RoleSessionName", std::string(session_name)},
                       {"WebIdentityToken", std::string(web_identity_token)}};
  if (duration_seconds.has_value()) {
    params.emplace_back("DurationSeconds", std::to_string(*duration_seconds));
  }
  return form_encode(params);
}

// ---- ARNs --------------------------------------------------------------------------------------

std::optional<ScalingPolicyArn> parse_scaling_policy_arn(std::string_view arn) {
  const auto parts = split_arn(arn);
  if (!parts.has_value() || parts->service != "autoscaling" ||
      !valid_partition_or_region(parts->region) || !valid_account(parts->account)) {
    return std::nullopt;
  }
  constexpr std::string_view kType = "scalingPolicy:";
  constexpr std::string_view kGroup = "autoScalingGroupName/";
  constexpr std::string_view kPolicy = ":policyName/";
  std::string_view rest = parts->resource;
  if (!rest.starts_with(kType)) {
    return std::nullopt;
  }
  rest.remove_prefix(kType.size());
  const size_t id_end = rest.find(':');
  if (id_end == 0 || id_end == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view id = rest.substr(0, id_end);
  rest.remove_prefix(id_end + 1);
  if (!rest.starts_with(kGroup)) {
    return std::nullopt;
  }
  rest.remove_prefix(kGroup.size());
  const size_t group_end = rest.find(kPolicy);
  if (group_end == 0 || group_end == std::string_view::npos) {
    return std::nullopt;
  }
  const std::string_view name = rest.substr(group_end + kPolicy.size());
  if (name.empty()) {
    return std::nullopt;
  }
  return ScalingPolicyArn{.partition = std::string(parts->partition),
                          .region = std::string(parts->region),
                          .account = std::string(parts->account),
                          .policy_id = std::string(id),
                          .group = std::string(rest.substr(0, group_end)),
                          .policy_name = std::string(name)};
}

std::optional<Ec2Operation> ec2_operation(AutomateAction action) {
  switch (action) {
    case AutomateAction::kStop:
      return Ec2Operation::kStop;
    case AutomateAction::kTerminate:
      return Ec2Operation::kTerminate;
    case AutomateAction::kReboot:
      return Ec2Operation::kReboot;
    case AutomateAction::kRecover:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<AutomateArn> parse_automate_arn(std::string_view arn) {
  const auto parts = split_arn(arn);
  if (!parts.has_value() || !valid_partition_or_region(parts->region)) {
    return std::nullopt;
  }

  struct Name {
    std::string_view automate;  // The resource after `…:automate:REGION:ec2:`.
    std::string_view swf;       // The resource after `…:swf:REGION:ACCOUNT:`.
    AutomateAction action;
  };

  static constexpr std::array<Name, 4> kNames = {{
      {"stop", "action/actions/AWS_EC2.InstanceId.Stop/1.0", AutomateAction::kStop},
      {"terminate", "action/actions/AWS_EC2.InstanceId.Terminate/1.0", AutomateAction::kTerminate},
      {"reboot", "action/actions/AWS_EC2.InstanceId.Reboot/1.0", AutomateAction::kReboot},
      {"recover", "action/actions/AWS_EC2.InstanceId.Recover/1.0", AutomateAction::kRecover},
  }};
  // Automate ARNs have no account: "ec2" sits where the account would be.
  const bool automate = parts->service == "automate" && parts->account == "ec2";
  const bool swf = parts->service == "swf" && valid_account(parts->account);
  for (const Name& name : kNames) {
    if ((automate && parts->resource == name.automate) || (swf && parts->resource == name.swf)) {
      return AutomateArn{.partition = std::string(parts->partition),
                         .region = std::string(parts->region),
                         .action = name.action};
    }
  }
  return std::nullopt;
}

std::optional<SnsTopicArn> parse_sns_topic_arn(std::string_view arn) {
  const auto parts = split_arn(arn);
  if (!parts.has_value() || parts->service != "sns" || !valid_partition_or_region(parts->region) ||
      !valid_account(parts->account)) {
    return std::nullopt;
  }
  const std::string_view topic = parts->resource;
  std::string_view base = topic;
  if (base.ends_with(".fifo")) {
    base.remove_suffix(5);
  }
  const auto topic_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' || c == '-';
  };
  if (base.empty() || topic.size() > 256 || !std::all_of(base.begin(), base.end(), topic_char)) {
    return std::nullopt;
  }
  return SnsTopicArn{.partition = std::string(parts->partition),
                     .region = std::string(parts->region),
                     .account = std::string(parts->account),
                     .topic = std::string(topic)};
}

// ---- AWS XML -----------------------------------------------------------------------------------

std::optional<std::string> xml_element_text(std::string_view xml, std::string_view path) {
  return XmlIndex(xml).text_at(path);
}

AwsError parse_aws_error(std::string_view xml) {
  const XmlIndex index(xml);
  AwsError error;
  const size_t element = index.find("Error");
  if (element != kNone) {
    error.code = index.text_at("Code", element).value_or("");
    error.message = index.text_at("Message", element).value_or("");
    error.type = index.text_at("Type", element).value_or("");
  }
  error.request_id = index.text_at("RequestID").value_or(index.text_at("RequestId").value_or(""));
  return error;
}

bool aws_error_is_retryable(int http_status, std::string_view code) {
  switch (http_status) {
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
      return true;
    default:
      break;
  }
  static constexpr std::array<std::string_view, 11> kRetryableCodes = {
      "RequestLimitExceeded",      "Throttling",
      "ThrottlingException",       "EC2ThrottledException",
      "RequestThrottled",          "TooManyRequestsException",
      "PriorRequestNotComplete",   "IDPCommunicationError",
      "ExpiredTokenException",     "ResourceContention",
      "ScalingActivityInProgress",
  };
  return std::find(kRetryableCodes.begin(), kRetryableCodes.end(), code) != kRetryableCodes.end();
}

Result<StsCredentials> parse_sts_credentials(std::string_view xml) {
  const XmlIndex index(xml);
  const size_t credentials = index.find("Credentials");
  StsCredentials out;
  const std::array<std::pair<std::string_view, std::string*>, 4> fields = {{
      {"AccessKeyId", &out.access_key_id},
      {"SecretAccessKey", &out.secret_access_key},
      {"SessionToken", &out.session_token},
      {"Expiration", &out.expiration},
  }};
  for (const auto& [name, target] : fields) {
    std::optional<std::string> text;
    if (credentials != kNone) {
      text = index.text_at(name, credentials);
    }
    if (!text.has_value() || text->empty()) {
      std::string message = "AssumeRoleWithWebIdentity reply has no Credentials/";
      message.append(name);
      const auto code = index.text_at("Error/Code");
      if (code.has_value() && !code->empty()) {
        message.append(" (error ").append(*code).append(")");
      }
      return pipeline::data_loss(std::move(message));
    }
    *target = std::move(*text);
  }
  out.expires = pipeline::parse_iso8601(out.expiration);
  return out;
}

Result<std::vector<Ec2InstanceStateChange>> parse_ec2_instance_state_changes(std::string_view xml) {
  const XmlIndex index(xml);
  const size_t set = index.find("instancesSet");
  if (!index.closed(set)) {
    return pipeline::data_loss("EC2 reply has no complete instancesSet");
  }
  const auto& elements = index.elements();
  const size_t end = index.subtree_end(set);
  std::vector<Ec2InstanceStateChange> changes;
  for (size_t i = set + 1; i < end; ++i) {
    if (elements[i].depth != elements[set].depth + 1 || elements[i].name != "item") {
      continue;
    }
    Ec2InstanceStateChange change;
    change.instance_id = index.text_at("instanceId", i).value_or("");
    if (change.instance_id.empty()) {
      continue;
    }
    const size_t current = index.find("currentState", i);
    if (current != kNone) {
      change.current_state = index.text_at("name", current).value_or("");
      change.current_code = parse_state_code(index.text_at("code", current));
    }
    const size_t previous = index.find("previousState", i);
    if (previous != kNone) {
      change.previous_state = index.text_at("name", previous).value_or("");
      change.previous_code = parse_state_code(index.text_at("code", previous));
    }
    changes.push_back(std::move(change));
  }
  return changes;
}

std::optional<bool> parse_ec2_return(std::string_view xml) {
  const auto text = xml_element_text(xml, "return");
  if (text == "true") {
    return true;
  }
  if (text == "false") {
    return false;
  }
  return std::nullopt;
}

// ---- Kubernetes --------------------------------------------------------------------------------

std::string_view to_string(KubernetesWorkloadKind kind) {
  switch (kind) {
    case KubernetesWorkloadKind::kDeployment:
      return "Deployment";
    case KubernetesWorkloadKind::kStatefulSet:
      return "StatefulSet";
    case KubernetesWorkloadKind::kReplicaSet:
      return "ReplicaSet";
  }
  return "Deployment";
}

std::optional<KubernetesWorkloadKind> parse_kubernetes_workload_kind(std::string_view text) {
  for (const KubernetesWorkloadKind kind :
       {KubernetesWorkloadKind::kDeployment, KubernetesWorkloadKind::kStatefulSet,
        KubernetesWorkloadKind::kReplicaSet}) {
    if (text == to_string(kind)) {
      return kind;
    }
  }
  return std::nullopt;
}

std::string escape_path_segment(std::string_view segment) {
  if (segment == ".") {
    return "%2E";
  }
  if (segment == "..") {
    return "%2E%2E";
  }
  std::string out;
  out.reserve(segment.size());
  append_percent_encoded(out, segment);
  return out;
}

std::string kubernetes_scale_path(KubernetesWorkloadKind kind, std::string_view ns,
                                  std::string_view name) {
  std::string_view resource = "deployments";
  switch (kind) {
    case KubernetesWorkloadKind::kDeployment:
      resource = "deployments";
      break;
    case KubernetesWorkloadKind::kStatefulSet:
      resource = "statefulsets";
      break;
    case KubernetesWorkloadKind::kReplicaSet:
      resource = "replicasets";
      break;
  }
  std::string path = "/apis/apps/v1/namespaces/";
  path.append(escape_path_segment(ns));
  path.push_back('/');
  path.append(resource);
  path.push_back('/');
  path.append(escape_path_segment(name));
  path.append("/scale");
  return path;
}

Result<KubernetesScale> parse_kubernetes_scale(std::string_view json) {
  try {
    const auto doc = parse_json_object(json);
    if (!doc.has_value()) {
      return pipeline::invalid_argument("Scale reply is not a JSON object");
    }
    return parse_scale_document(*doc);
  } catch (const std::exception& e) {
    // The accessors above check types before reading, so this is only a backstop.
    return pipeline::invalid_argument(std::string("Scale reply unreadable: ") + e.what());
  }
}

std::string scale_json_patch(int current, int target) {
  OrderedJson test;
  test["op"] = "test";
  test["path"] = "/spec/replicas";
  test["value"] = current;
  OrderedJson replace;
  replace["op"] = "replace";
  replace["path"] = "/spec/replicas";
  replace["value"] = target;
  return dump(OrderedJson::array({std::move(test), std::move(replace)}));
}

std::string scale_merge_patch(int target) {
  OrderedJson patch;
  patch["spec"]["replicas"] = target;
  return dump(patch);
}

int scale_target(int current, ScaleMode mode, int amount, int min_replicas, int max_replicas) {
  int64_t target = current;
  switch (mode) {
    case ScaleMode::kSet:
      target = amount;
      break;
    case ScaleMode::kAdd:
      target = int64_t{current} + amount;
      break;
    case ScaleMode::kSubtract:
      target = int64_t{current} - amount;
      break;
  }
  target = std::max<int64_t>(target, min_replicas);
  target = std::min<int64_t>(target, max_replicas);
  return static_cast<int>(target);
}

std::optional<KubernetesStatus> parse_kubernetes_status(std::string_view json) {
  try {
    const auto doc = parse_json_object(json);
    if (!doc.has_value()) {
      return std::nullopt;
    }
    const auto kind = doc->find("kind");
    if (kind != doc->end() && (!kind->is_string() || kind->get<std::string>() != "Status")) {
      return std::nullopt;
    }
    KubernetesStatus status;
    const auto string_field = [&doc](const char* key) {
      const auto it = doc->find(key);
      return it != doc->end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    status.reason = string_field("reason");
    status.message = string_field("message");
    std::optional<int> code;
    if (read_int(*doc, "code", "code", code).is_ok() && code.has_value()) {
      status.code = *code;
    }
    return status;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace tw::connectors
