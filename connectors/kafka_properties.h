#pragma once

/// KafkaProperties: the librdkafka configuration of one client, exactly as the user wrote it.
///
/// Any librdkafka property passes through unchanged (bootstrap.servers, SASL and SSL settings,
/// client.id, fetch and batch sizes...): trailwatch does not keep its own list, so whatever the
/// installed librdkafka accepts works, and whatever it rejects is reported by the client's
/// `create()` naming the property.
///
/// Secrets. A value may reference a secret instead of holding it:
///
///   - `${env:NAME}`   the environment variable NAME (which must be set; it may be empty);
///   - `${file:/path}` the content of the file, without trailing `\n` / `\r\n` (at most 1 MiB).
///
/// References may be embedded in a longer value (a JAAS line with `password="${env:PW}"`), and
/// `$${` stands for a literal `${`. `resolve()` replaces them. Its errors name the property and the
/// reference, never the secret. `redacted()` is the only form meant for printing: it hides
/// sensitive properties and every value that came from a reference.
///
/// Thread-safety: a value type; const methods may be called concurrently.

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pipeline/status.h"

namespace tw::connectors {

/// Replaces the `${env:NAME}` / `${file:/path}` references in one value (as KafkaProperties
/// resolves its values). `name` labels errors ("property 'NAME': ..."); they never hold the
/// secret. Used for every secret trailwatch reads from its configuration.
pipeline::Result<std::string> resolve_references(std::string_view name, std::string_view value);

class KafkaProperties {
 public:
  /// The text that replaces a hidden value in `redacted()`.
  static constexpr std::string_view kRedacted = "[redacted]";

  struct Entry {
    std::string name;
    std::string value;
    /// Set by `resolve()` when the value was read from a reference: the value is a secret (or may
    /// be), so it is never printed and never resolved again.
    bool from_reference = false;

    bool operator==(const Entry&) const = default;
  };

  KafkaProperties() = default;

  /// Properties in the given order; a repeated name keeps its first position and its last value.
  KafkaProperties(std::initializer_list<std::pair<std::string, std::string>> entries);

  /// Sets `name` to `value`. An existing property keeps its position and loses its
  /// `from_reference` mark.
  void set(std::string_view name, std::string value);

  /// Sets `name` only when it is absent. Returns whether it was set. Used for trailwatch's
  /// defaults, which the user's own value always overrides.
  bool set_default(std::string_view name, std::string value);

  /// Removes `name`; returns whether it was present.
  bool erase(std::string_view name);

  /// The value of `name`, or nullptr. Unresolved values contain their references.
  [[nodiscard]] const std::string* find(std::string_view name) const;

  [[nodiscard]] bool contains(std::string_view name) const { return find(name) != nullptr; }

  /// In insertion order.
  [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }

  [[nodiscard]] size_t size() const { return entries_.size(); }

  [[nodiscard]] bool empty() const { return entries_.empty(); }

  /// A copy with every reference replaced by the secret it names, the entries that held one marked
  /// `from_reference`. Values already marked are left alone, so resolving twice is harmless.
  /// Errors (`invalid_argument` for a malformed or unknown reference, `not_found` for an unset
  /// variable or unreadable file, `out_of_range` for a file over 1 MiB) name the property and the
  /// reference, never a secret.
  [[nodiscard]] pipeline::Result<KafkaProperties> resolve() const;

  /// A copy safe to print: the value of every sensitive entry (see `is_sensitive`) is
  /// `kRedacted`. Unresolved references are shown as written, since they are not secrets.
  [[nodiscard]] KafkaProperties redacted() const;

  /// `redacted()` on one line: `name=value, name=value`.
  [[nodiscard]] std::string to_redacted_string() const;

  /// True when the property's name contains "password", "secret", "token", "sasl.jaas" or
  /// "ssl.key", ignoring case (librdkafka's sasl.password, ssl.key.password, ssl.key.pem,
  /// sasl.oauthbearer.client.secret, sasl.jaas.config...).
  [[nodiscard]] static bool is_sensitive_name(std::string_view name);

  /// `is_sensitive_name(entry.name) || entry.from_reference`.
  [[nodiscard]] static bool is_sensitive(const Entry& entry);

  bool operator==(const KafkaProperties&) const = default;

 private:
  std::vector<Entry> entries_;
};

}  // namespace tw::connectors
