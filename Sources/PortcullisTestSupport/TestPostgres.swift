import Foundation

/// A throw-away PostgreSQL cluster for tests: `initdb` into a temporary folder, `pg_ctl start`
/// on a free port on loopback, trust authentication. Runs the server as the `postgres` user when
/// the tests run as root (PostgreSQL refuses to run as root). Needs Debian's `postgresql`
/// package (`scripts/setup-debian` installs it). Stop and start it to test outages.
public final class TestPostgres: Sendable {
    public let folder: String
    public let port: Int
    let binaries: String
    let runAsPostgres: Bool

    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The newest installed server's binaries, or `nil` when PostgreSQL is not installed.
    public static var binaries: String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        guard let newest = versions.last else { return nil }
        let path = "\(root)/\(newest)/bin"
        return FileManager.default.isExecutableFile(atPath: path + "/pg_ctl") ? path : nil
    }

    public static var isInstalled: Bool { binaries != nil }

    public static func start() async throws -> TestPostgres {
        guard let binaries else { throw Unavailable(description: "PostgreSQL is not installed (scripts/setup-debian installs it)") }
        // Under TMPDIR (scripts/test's private folder) when the server's socket path fits in
        // a sockaddr_un (108 bytes); in /tmp otherwise. Removed by ``stop()``.
        let name = "portcullis-pg-\(UUID().uuidString.prefix(8))"
        let temporary = FileManager.default.temporaryDirectory.path
        let folder = (temporary + "/" + name + "/.s.PGSQL.65535").utf8.count < 100 ? temporary + "/" + name : "/tmp/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let root = getuid() == 0
        if root {
            try run(["/bin/chown", "postgres:postgres", folder])
        }
        let port = try freePort()
        let server = TestPostgres(folder: folder, port: port, binaries: binaries, runAsPostgres: root)
        try server.command(["\(binaries)/initdb", "-D", folder + "/data", "-A", "trust", "-U", "portcullis", "--no-sync", "-E", "UTF8"])
        try await server.startServer()
        return server
    }

    private init(folder: String, port: Int, binaries: String, runAsPostgres: Bool) {
        self.folder = folder
        self.port = port
        self.binaries = binaries
        self.runAsPostgres = runAsPostgres
    }

    /// A URL for a database of this cluster (created by ``createDatabase(_:)``).
    public func url(database: String = "postgres") -> String {
        "postgres://portcullis@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    /// Creates a fresh database and answers its URL.
    public func createDatabase(_ name: String = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()) throws -> String {
        try command(["\(binaries)/createdb", "-h", "127.0.0.1", "-p", String(port), "-U", "portcullis", name])
        return url(database: name)
    }

    public func startServer() async throws {
        try command([
            "\(binaries)/pg_ctl", "-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "30",
            "-o", "-p \(port) -k \(folder) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            "start",
        ])
    }

    /// Turns TLS on with this certificate chain and key (PEM; test fixtures made by the test)
    /// and restarts the server. Connections may then use TLS; the server does not demand it.
    public func enableTLS(certificatePEM: String, keyPEM: String) async throws {
        let data = folder + "/data"
        try Data(certificatePEM.utf8).write(to: URL(fileURLWithPath: data + "/server.crt"))
        try Data(keyPEM.utf8).write(to: URL(fileURLWithPath: data + "/server.key"))
        // PostgreSQL refuses a key others can read.
        chmod(data + "/server.key", 0o600)
        if runAsPostgres {
            try Self.run(["/bin/chown", "postgres:postgres", data + "/server.crt", data + "/server.key"])
        }
        let settings = "\nssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: data + "/postgresql.conf"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(settings.utf8))
        try handle.close()
        try stopServer()
        try await startServer()
    }

    /// Runs `sql` with `psql` in the background, as another client of the database would (a
    /// transaction that holds a lock while it sleeps, say); ``ChildProcess/stop(grace:)`` ends it.
    public func startSQL(_ sql: String, database: String) throws -> ChildProcess {
        let arguments = [
            "\(binaries)/psql", "-h", "127.0.0.1", "-p", String(port), "-U", "portcullis", "-d", database, "-v", "ON_ERROR_STOP=1",
            "-c", sql,
        ]
        return try ChildProcess.start(runAsPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments)
    }

    /// Runs `sql` with `psql` and answers what it prints, unaligned and without headers.
    public func query(_ sql: String, database: String) throws -> String {
        try command([
            "\(binaries)/psql", "-h", "127.0.0.1", "-p", String(port), "-U", "portcullis", "-d", database, "-v", "ON_ERROR_STOP=1",
            "-tA", "-c", sql,
        ]).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops the server at once (`-m fast`: open connections are closed).
    public func stopServer() throws {
        try command(["\(binaries)/pg_ctl", "-D", folder + "/data", "-m", "fast", "-w", "stop"])
    }

    /// Hangs the server without closing anything: SIGSTOP to the postmaster and every process
    /// under it (backends, background workers), so connections stay open and the kernel still
    /// accepts new ones, but nothing answers. This is what a stalled disk, a frozen VM or a
    /// network partition looks like from the client. ``thaw()`` resumes it.
    public func freeze() throws {
        let postmaster = try postmasterPID()
        kill(postmaster, SIGSTOP)
        // The postmaster cannot fork once stopped; a second pass catches a child it forked just
        // before.
        for _ in 0..<2 {
            for process in ProcessTable.snapshot().descendants(of: postmaster) { kill(process.pid, SIGSTOP) }
        }
    }

    /// Resumes a server ``freeze()`` stopped (SIGCONT, children first).
    public func thaw() throws {
        let postmaster = try postmasterPID()
        for process in ProcessTable.snapshot().descendants(of: postmaster) { kill(process.pid, SIGCONT) }
        kill(postmaster, SIGCONT)
    }

    /// The first line of `postmaster.pid`.
    func postmasterPID() throws -> pid_t {
        let text = (try? String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8)) ?? ""
        guard let line = text.split(separator: "\n").first, let pid = pid_t(line.trimmingCharacters(in: .whitespaces)), pid > 1 else {
            throw Unavailable(description: "the server is not running (no postmaster.pid in \(folder)/data)")
        }
        return pid
    }

    public func remove() {
        try? thaw()
        try? stopServer()
        try? FileManager.default.removeItem(atPath: folder)
    }

    // MARK: -

    @discardableResult
    func command(_ arguments: [String]) throws -> String {
        try Self.run(runAsPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + arguments : arguments)
    }

    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        let result = try Subprocess.run(arguments)
        guard result.status == 0 else {
            throw Unavailable(description: "\(arguments.joined(separator: " ")) failed (status \(result.status)): \(result.output.suffix(2_000))")
        }
        return result.output
    }

    /// A port nothing listens on now, below Linux's ephemeral range (32768–60999), so that it
    /// cannot be one another test reserved by binding port 0.
    static func freePort() throws -> Int {
        for _ in 0..<200 {
            let candidate = Int.random(in: 20_000..<32_000)
            if isFree(candidate) { return candidate }
        }
        throw Unavailable(description: "no free port between 20000 and 32000")
    }

    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let length = socklen_t(MemoryLayout<sockaddr_in>.size)
        return withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 }
        }
    }
}
