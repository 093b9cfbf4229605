#ifndef FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_FAMILIES_H_
#define FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_FAMILIES_H_

// The column families of the intake database, one per kind of entry (intake_keys.h has their
// keys). Separate families let a window scan read predictions only, and let the retention filter
// give pending outcomes a shorter life than the rest.

namespace fabrique::monitoring {

inline constexpr char kPredictionsFamily[] = "predictions";
inline constexpr char kPredictionIdsFamily[] = "prediction_ids";
inline constexpr char kEntityIndexFamily[] = "entity_index";
inline constexpr char kJoinedFamily[] = "joined";
inline constexpr char kPendingFamily[] = "pending";
inline constexpr char kBatchesFamily[] = "batches";
// The live windows (libs/monitoring/windows) live in the intake database, so that what a batch
// adds to them is journalled in the same write batch as its records.
inline constexpr char kWindowsFamily[] = "windows";
inline constexpr char kWindowIndexFamily[] = "window_index";
inline constexpr char kWindowJournalFamily[] = "window_journal";

inline constexpr const char* kIntakeFamilies[] = {
    kPredictionsFamily, kPredictionIdsFamily, kEntityIndexFamily,
    kJoinedFamily,      kPendingFamily,       kBatchesFamily,
    kWindowsFamily,     kWindowIndexFamily,   kWindowJournalFamily,
};

}  // namespace fabrique::monitoring

#endif  // FABRIQUE_LIBS_MONITORING_INTAKE_INTAKE_FAMILIES_H_
