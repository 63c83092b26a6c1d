#include "detectors/json_text.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <string_view>

namespace tw::detectors {
namespace {

// The oracle: what payloads, reason data and datapoint lines were written with before they were
// built without a DOM, and what their golden files hold.
std::string nlohmann_dump(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string bytes(std::initializer_list<unsigned char> list) {
  std::string out;
  for (const unsigned char b : list) {
    out.push_back(static_cast<char>(b));
  }
  return out;
}

// A readable rendering of a failing input.
std::string hex(std::string_view text) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto b = static_cast<unsigned char>(c);
    out += kHex[b >> 4];
    out += kHex[b & 0x0fU];
    out += ' ';
  }
  return out;
}

void expect_matches_nlohmann(std::string_view text) {
  EXPECT_EQ(json_string(text), nlohmann_dump(text)) << "input bytes: " << hex(text);
}

const std::string kFffd = "\xEF\xBF\xBD";

TEST(JsonString, AsciiIsQuotedAndCopied) {
  EXPECT_EQ(json_string(""), R"("")");
  EXPECT_EQ(json_string("host-1 high CPU"), R"("host-1 high CPU")");
  EXPECT_EQ(json_string("a/b <c> & 'd' {e}:[f]"), R"("a/b <c> & 'd' {e}:[f]")");
  expect_matches_nlohmann("");
  expect_matches_nlohmann("arn:aws:cloudwatch:us-east-1:123456789012:alarm:cpu high");
}

TEST(JsonString, QuotesAndBackslashesAreEscaped) {
  EXPECT_EQ(json_string(R"(say "hi")"), R"("say \"hi\"")");
  EXPECT_EQ(json_string(R"(C:\dir\)"), R"("C:\\dir\\")");
  EXPECT_EQ(json_string(R"(\")"), R"("\\\"")");
  expect_matches_nlohmann(R"({"json":"inside","n":[1,2]})");
  expect_matches_nlohmann(R"(\\\"\\)");
}

TEST(JsonString, ControlCharactersAreEscapedAsNlohmannDoes) {
  EXPECT_EQ(json_string("\b\t\n\f\r"), R"("\b\t\n\f\r")");
  EXPECT_EQ(json_string(bytes({0x00, 0x01, 0x0b, 0x1f})), R"("\u0000\u0001\u000b\u001f")");
  EXPECT_EQ(json_string("\x7f"), "\"\x7f\"");  // DEL is not escaped.
  for (int b = 0; b < 0x20; ++b) {
    expect_matches_nlohmann(std::string(1, static_cast<char>(b)));
    expect_matches_nlohmann("a" + std::string(1, static_cast<char>(b)) + "z");
  }
  expect_matches_nlohmann("\x7f");
  expect_matches_nlohmann("a\x7fz");
}

TEST(JsonString, ValidUtf8IsCopiedUnescaped) {
  EXPECT_EQ(json_string("caf\xC3\xA9"), "\"caf\xC3\xA9\"");
  EXPECT_EQ(json_string("\xE2\x82\xAC 5"), "\"\xE2\x82\xAC 5\"");
  EXPECT_EQ(json_string("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");
  for (const std::string_view text :
       {"\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xED\x9F\xBF", "\xEE\x80\x80", "\xEF\xBF\xBF",
        "\xF0\x90\x80\x80", "\xF4\x8F\xBF\xBF", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"}) {
    expect_matches_nlohmann(text);
  }
}

TEST(JsonString, InvalidUtf8BecomesOneReplacementPerMaximalSubpart) {
  // A stray continuation byte, bytes that never start a sequence.
  EXPECT_EQ(json_string("\x80"), "\"" + kFffd + "\"");
  EXPECT_EQ(json_string("a\xFFz"), "\"a" + kFffd + "z\"");
  EXPECT_EQ(json_string("\xBF\xBF"), "\"" + kFffd + kFffd + "\"");
  // Overlong forms: C0/C1 cannot start a sequence; E0 80 and F0 80 are no valid prefixes.
  EXPECT_EQ(json_string("\xC0\xAF"), "\"" + kFffd + kFffd + "\"");
  EXPECT_EQ(json_string("\xE0\x80\xAF"), "\"" + kFffd + kFffd + kFffd + "\"");
  // A UTF-16 surrogate (U+D800) and a code point beyond U+10FFFF.
  EXPECT_EQ(json_string("\xED\xA0\x80"), "\"" + kFffd + kFffd + kFffd + "\"");
  EXPECT_EQ(json_string("\xF4\x90\x80\x80"), "\"" + kFffd + kFffd + kFffd + kFffd + "\"");
  // Truncated: the valid prefix is one replacement, at the end or before another byte.
  EXPECT_EQ(json_string("\xE2\x82"), "\"" + kFffd + "\"");
  EXPECT_EQ(json_string("\xF0\x9F\x98"), "\"" + kFffd + "\"");
  EXPECT_EQ(json_string("\xE2\x82z"), "\"" + kFffd + "z\"");
  EXPECT_EQ(json_string("\xF0\x9F\x98\xC3\xA9"), "\"" + kFffd + "\xC3\xA9\"");
  EXPECT_EQ(json_string("\xE2\x82\""), "\"" + kFffd + "\\\"\"");
  for (const std::string_view text : {"\x80",
                                      "\xC0\xAF",
                                      "\xC1\xBF",
                                      "\xE0\x80\xAF",
                                      "\xE0\x9F\xBF",
                                      "\xED\xA0\x80",
                                      "\xED\xBF\xBF",
                                      "\xF0\x80\x80\xAF",
                                      "\xF0\x8F\xBF\xBF",
                                      "\xF4\x90\x80\x80",
                                      "\xF5\x80",
                                      "\xF8\x88\x80\x80\x80",
                                      "\xFE\xFF",
                                      "\xC3",
                                      "\xE2\x82",
                                      "\xF0\x9F\x98",
                                      "abc\xC3",
                                      "\xC3\xC3\xA9",
                                      "\xE2\x82\n",
                                      "\xF0\x9F\x98\\",
                                      "\xE0\xA0",
                                      "\xED\x9F"}) {
    expect_matches_nlohmann(text);
  }
}

TEST(JsonString, AppendsAfterExistingText) {
  std::string out = "{\"k\":";
  append_json_string(out, "v\n");
  append_json_string(out, "");
  EXPECT_EQ(out, R"({"k":"v\n""")");
}

TEST(JsonString, EveryStringOfUpToTwoBytesMatchesNlohmann) {
  for (int a = 0; a < 256; ++a) {
    expect_matches_nlohmann(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b) {
      const std::string text = {static_cast<char>(a), static_cast<char>(b)};
      ASSERT_EQ(json_string(text), nlohmann_dump(text)) << "input bytes: " << hex(text);
    }
  }
}

TEST(JsonString, EveryShortStringOverBoundaryBytesMatchesNlohmann) {
  // The bytes where UTF-8's table of well-formed sequences changes, and ASCII that is escaped
  // or copied: all strings of three and four of them.
  constexpr std::array<unsigned char, 26> kAlphabet = {
      0x00, 0x0a, 0x1f, 0x22, 0x41, 0x5c, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
      0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff};
  std::string text(4, '\0');
  for (const unsigned char a : kAlphabet) {
    for (const unsigned char b : kAlphabet) {
      for (const unsigned char c : kAlphabet) {
        text.assign({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c)});
        ASSERT_EQ(json_string(text), nlohmann_dump(text)) << "input bytes: " << hex(text);
        for (const unsigned char d : kAlphabet) {
          text.resize(3);
          text.push_back(static_cast<char>(d));
          ASSERT_EQ(json_string(text), nlohmann_dump(text)) << "input bytes: " << hex(text);
        }
      }
    }
  }
}

TEST(JsonString, SpecialBytesAnywhereInLongPlainTextMatchNlohmann) {
  // Plain runs are scanned several bytes at a time: a byte that needs work must be found at
  // every offset, first or last of a block or in its tail, and next to another one.
  const std::string plain = "Threshold Crossed: 1 datapoint [85.0 (01/01/26 00:01:00)]";
  constexpr std::array<std::string_view, 12> kSpecial = {
      "\"",       "\\",
      "\n",       "\x01",
      "\x1f",     "\x7f",
      "\x80",     "\xC3\xA9",
      "\xE2\x82", "\xF0\x9F\x98\x80",
      "\xFF",     std::string_view("\0", 1),
  };
  for (const std::string_view special : kSpecial) {
    for (size_t at = 0; at <= plain.size(); ++at) {
      std::string text = plain;
      text.insert(at, special);
      ASSERT_EQ(json_string(text), nlohmann_dump(text)) << "input bytes: " << hex(text);
      text.insert(at, special);
      ASSERT_EQ(json_string(text), nlohmann_dump(text)) << "input bytes: " << hex(text);
    }
  }
}

TEST(JsonString, RandomStringsMatchNlohmann) {
  std::mt19937 rng(20240611);  // Fixed seed: the same strings on every run.
  // Mostly plausible text (ASCII, multi-byte lead and continuation bytes), some of anything.
  std::uniform_int_distribution<int> pick(0, 9);
  std::uniform_int_distribution<int> any(0, 255);
  std::uniform_int_distribution<int> ascii(0x20, 0x7e);
  std::uniform_int_distribution<int> continuation(0x80, 0xbf);
  std::uniform_int_distribution<int> lead(0xc2, 0xf4);
  std::uniform_int_distribution<int> length(0, 48);
  for (int round = 0; round < 20'000; ++round) {
    std::string text;
    const int n = length(rng);
    for (int i = 0; i < n; ++i) {
      const int kind = pick(rng);
      const int b = kind < 4   ? ascii(rng)
                    : kind < 7 ? continuation(rng)
                    : kind < 9 ? lead(rng)
                               : any(rng);
      text.push_back(static_cast<char>(b));
    }
    ASSERT_EQ(json_string(text), nlohmann_dump(text)) << "input bytes: " << hex(text);
  }
}

}  // namespace
}  // namespace tw::detectors
