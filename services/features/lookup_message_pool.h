#ifndef FABRIQUE_SERVICES_FEATURES_LOOKUP_MESSAGE_POOL_H_
#define FABRIQUE_SERVICES_FEATURES_LOOKUP_MESSAGE_POOL_H_

#include "fabrique/v1/features.pb.h"
#include "libs/server/arena_message_pool.h"

namespace fabrique::services {

// LookupOnline's request and response on pooled arenas. A 100 x 50 answer takes some 400
// allocations (columns, refs, lists, strings); made one by one, glibc's malloc and free took a
// third of the server's CPU on one-entity lookups (tools/bench/features_lookup_bench
// --perf_dir).
class LookupMessagePool final
    : public server::ArenaMessagePool<v1::LookupOnlineRequest, v1::LookupOnlineResponse> {};

}  // namespace fabrique::services

#endif  // FABRIQUE_SERVICES_FEATURES_LOOKUP_MESSAGE_POOL_H_
