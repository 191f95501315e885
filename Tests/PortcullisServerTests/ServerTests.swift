import Testing

/// The socket-level suites run one at a time: they measure timeouts and stream 100 MiB bodies,
/// and do not share the machine well with each other.
@Suite("Server", .serialized)
struct ServerTests {}
