#ifndef FABRIQUE_LIBS_TRAINING_CHECKPOINT_BYTES_H_
#define FABRIQUE_LIBS_TRAINING_CHECKPOINT_BYTES_H_

// The byte layout of epoch checkpoints: numbers in the machine's own representation, arrays and
// strings prefixed by their length. A checkpoint is read back by the same trainer build on the
// same kind of machine (a preempted run resumes on the trainer that runs it again), so no
// portable encoding is needed; a truncated or foreign file is refused, never half-read.

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/string_view.h"

namespace fabrique::training {

class CheckpointWriter {
 public:
  template <typename T>
  void Put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    bytes_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  template <typename T>
  void PutArray(const std::vector<T>& values) {
    Put<uint64_t>(values.size());
    bytes_.append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T));
  }
  void PutString(absl::string_view text) {
    Put<uint64_t>(text.size());
    bytes_.append(text.data(), text.size());
  }
  std::string Take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Reads what CheckpointWriter wrote, in the same order. Every read returns false once the
// bytes run short; the reader then stays failed.
class CheckpointReader {
 public:
  explicit CheckpointReader(absl::string_view bytes) : rest_(bytes) {}

  template <typename T>
  bool Get(T* value) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (!ok_ || rest_.size() < sizeof(T)) return ok_ = false;
    std::memcpy(value, rest_.data(), sizeof(T));
    rest_.remove_prefix(sizeof(T));
    return true;
  }
  template <typename T>
  bool GetArray(std::vector<T>* values) {
    uint64_t n = 0;
    if (!Get(&n) || n > rest_.size() / sizeof(T)) return ok_ = false;
    values->resize(n);
    std::memcpy(values->data(), rest_.data(), n * sizeof(T));
    rest_.remove_prefix(n * sizeof(T));
    return true;
  }
  bool GetString(std::string* text) {
    uint64_t n = 0;
    if (!Get(&n) || n > rest_.size()) return ok_ = false;
    text->assign(rest_.data(), n);
    rest_.remove_prefix(n);
    return true;
  }
  bool ok() const { return ok_; }
  bool done() const { return ok_ && rest_.empty(); }

 private:
  absl::string_view rest_;
  bool ok_ = true;
};

}  // namespace fabrique::training

#endif  // FABRIQUE_LIBS_TRAINING_CHECKPOINT_BYTES_H_
