import PortcullisTestSupport
import Testing

/// The socket-level suites run one at a time: they measure timeouts and stream 100 MiB bodies,
/// and do not share the machine well with each other. When they are done, no process they
/// started may still be running (`portcullis dev`, `portcullis serve`, oidc-provider-mock, a
/// browser): the leak check fails the run and stops what it finds.
@Suite("Server", .serialized, .noProcessLeftBehind)
struct ServerTests {}
