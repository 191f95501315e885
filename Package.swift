// swift-tools-version:6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

/// `fuzz/run` builds with PORTCULLIS_FUZZING set: the modules the data-path fuzzer exercises get
/// libFuzzer's coverage and AddressSanitizer, in the same build folder as the tests, so the
/// dependencies (SwiftNIO, BoringSSL, …) are not built a second time (CI's largest cost).
let fuzzing = Context.environment["PORTCULLIS_FUZZING"] != nil
let fuzzed: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"]), .define("FUZZING")] : []

let package = Package(
    name: "portcullis",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "portcullis", targets: ["portcullis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
    ],
    targets: [
        // The access model: pure Swift, no I/O.
        .target(
            name: "PortcullisCore",
            swiftSettings: strict + fuzzed
        ),
        // libmaxminddb from Debian's libmaxminddb-dev.
        .systemLibrary(
            name: "CMaxMindDB",
            pkgConfig: "libmaxminddb",
            providers: [.apt(["libmaxminddb-dev"])]
        ),
        // The only unsafe code: lookups in a memory-mapped MaxMind database.
        .target(
            name: "PortcullisGeoIP",
            dependencies: ["PortcullisCore", "CMaxMindDB"],
            swiftSettings: strict
        ),
        // Store implementations: SQLite (embedded) and PostgreSQL (shared).
        .target(
            name: "PortcullisStore",
            dependencies: [
                "PortcullisCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        // Session ids, API token secrets and the IdP's JSON Web Tokens (compact JWS, the pinned
        // signing keys, the verifier): what both faces make and check, needing Crypto and jwt-kit
        // and nothing of NIO.
        .target(
            name: "PortcullisTokens",
            dependencies: [
                "PortcullisCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict + fuzzed
        ),
        // Configuration files: YAML (Yams) turned into the core's configuration tree.
        .target(
            name: "PortcullisConfigFile",
            dependencies: ["PortcullisCore", "Yams"],
            swiftSettings: strict
        ),
        // The hot path: the TLS listener, HTTP/1.1 and HTTP/2, the per-request state machine,
        // framing, the authenticators a request needs and the glue to pooled upstreams.
        // Never Hummingbird.
        .target(
            name: "PortcullisDataPath",
            dependencies: [
                "PortcullisCore",
                "PortcullisTokens",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict + fuzzed
        ),
        // Login, callback, logout, back-channel logout, the admin API, SCIM and the console: a
        // Hummingbird application the data path reaches for `/_portcullis/`. It never imports the
        // data path: the runtime objects it shares reach it through the core's protocols, wired
        // by the server.
        .target(
            name: "PortcullisControlPlane",
            dependencies: [
                "PortcullisCore",
                "PortcullisTokens",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            // The console's script, compiled into the binary (no files to install beside it).
            resources: [.embedInCode("Console/app.js")],
            swiftSettings: strict
        ),
        // Development only: the built-in IdP, the echo upstream, development certificates.
        // Only the executable and the tests depend on it.
        .target(
            name: "PortcullisDevelopment",
            dependencies: [
                "PortcullisCore",
                "PortcullisTokens",
                "PortcullisDataPath",
                "PortcullisControlPlane",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strict
        ),
        // Assembly: wiring, reload, the change listener and the internal listener (health, metrics).
        .target(
            name: "PortcullisServer",
            dependencies: [
                "PortcullisCore",
                "PortcullisTokens",
                "PortcullisDataPath",
                "PortcullisControlPlane",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            swiftSettings: strict
        ),
        // The data path without sockets (like NIOEmbedded for NIO): embedded client channels with
        // the real HTTP/1.1 pipeline, in-memory upstreams, an upstream-side parser of its own and
        // the invariants the differential tests and the fuzzer check.
        .target(
            name: "PortcullisDataPathTesting",
            dependencies: [
                "PortcullisDataPath",
                "PortcullisCore",
                "PortcullisTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict + fuzzed
        ),
        // Fakes, test processes and the store conformance suite.
        .target(
            name: "PortcullisTestSupport",
            dependencies: [
                "PortcullisCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "portcullis",
            dependencies: [
                "PortcullisCore",
                "PortcullisGeoIP",
                "PortcullisStore",
                "PortcullisConfigFile",
                "PortcullisDataPath",
                "PortcullisTokens",
                "PortcullisControlPlane",
                "PortcullisDevelopment",
                "PortcullisServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict,
            plugins: ["BuildInfo"]
        ),
        // The commit and build date `portcullis --version` prints, written on every build by
        // Plugins/BuildInfo/build-info.sh ("unknown" without git; never fails the build).
        .plugin(
            name: "BuildInfo",
            capability: .buildTool()
        ),
        // Micro-benchmarks of the pure core and GeoIP (bench/core) and of the store's
        // request-path reads (bench/store), in release mode.
        .executableTarget(
            name: "portcullis-bench",
            dependencies: ["PortcullisCore", "PortcullisGeoIP", "PortcullisStore", .product(name: "Logging", package: "swift-log")],
            swiftSettings: strict
        ),
        // Allocations per proxied request in each mode, counted by malloc-interposer (run
        // preloaded by bench/allocations and by the allocation budget test).
        .executableTarget(
            name: "portcullis-allocations",
            dependencies: [
                "PortcullisCore",
                "PortcullisDataPath",
                "PortcullisDataPathTesting",
                "PortcullisGeoIP",
                "PortcullisServer",
                "PortcullisStore",
                "PortcullisTokens",
                .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: strict
        ),
        // Resident memory of the session cache with many live sessions (bench/memory).
        .executableTarget(
            name: "portcullis-session-memory",
            dependencies: [
                "PortcullisCore",
                "PortcullisDataPath",
                "PortcullisStore",
                "PortcullisTokens",
            ],
            swiftSettings: strict
        ),
        // The data path's fuzz target (libFuzzer through fuzz/run); built normally it replays inputs.
        .executableTarget(
            name: "portcullis-fuzz",
            dependencies: ["PortcullisDataPathTesting"],
            swiftSettings: strict + fuzzed + (fuzzing ? [.unsafeFlags(["-parse-as-library"])] : []),
            linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []
        ),
        .testTarget(
            name: "PortcullisCoreTests",
            dependencies: ["PortcullisCore", "PortcullisTestSupport"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PortcullisConfigFileTests",
            dependencies: ["PortcullisConfigFile", "PortcullisCore", "PortcullisTestSupport"],
            swiftSettings: strict
        ),
        // The data path without sockets: the state machine transition by transition, framing,
        // header rules, the HTTP/2 stream codec and the handlers on NIOEmbedded channels.
        .testTarget(
            name: "PortcullisDataPathTests",
            dependencies: [
                "PortcullisDataPath",
                "PortcullisDataPathTesting",
                "PortcullisCore",
                "PortcullisTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PortcullisServerTests",
            dependencies: [
                "PortcullisServer",
                "PortcullisDataPath",
                "PortcullisDataPathTesting",
                "PortcullisControlPlane",
                "PortcullisDevelopment",
                "PortcullisCore",
                "PortcullisConfigFile",
                "PortcullisTestSupport",
                "PortcullisGeoIP",
                "PortcullisTokens",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "GRDB", package: "GRDB.swift"),
                "PortcullisStore",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PortcullisStoreTests",
            dependencies: [
                "PortcullisStore",
                "PortcullisCore",
                "PortcullisDevelopment",
                "PortcullisTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "PortcullisGeoIPTests",
            dependencies: ["PortcullisGeoIP", "PortcullisCore", "PortcullisTestSupport"],
            swiftSettings: strict
        ),
    ]
)
