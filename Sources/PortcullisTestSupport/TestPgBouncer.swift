import Foundation

/// PgBouncer (Debian's `pgbouncer`) in transaction mode in front of a ``TestPostgres``, on a
/// free loopback port, trust authentication: what deployments put between many gateway
/// instances and one PostgreSQL. Runs as the `postgres` user when the tests run as root
/// (PgBouncer refuses root too). ``stop()`` ends it.
public final class TestPgBouncer: Sendable {
    public let port: Int
    public let folder: String
    private let process: ChildProcess

    public static let binary = "/usr/sbin/pgbouncer"
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    /// `poolSize`: server connections per database and user (`default_pool_size`).
    public static func start(in front: TestPostgres, poolSize: Int = 10) async throws -> TestPgBouncer {
        guard isInstalled else { throw TestPostgres.Unavailable(description: "PgBouncer is not installed (scripts/setup-debian installs it)") }
        let port = try TestPostgres.freePort()
        let folder = front.folder + "/pgbouncer-\(port)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let settings = """
            [databases]
            * = host=127.0.0.1 port=\(front.port)

            [pgbouncer]
            listen_addr = 127.0.0.1
            listen_port = \(port)
            unix_socket_dir =
            auth_type = trust
            auth_file = \(folder)/users.txt
            pool_mode = transaction
            default_pool_size = \(poolSize)
            max_client_conn = 2000
            ignore_startup_parameters = extra_float_digits,options
            logfile = \(folder)/pgbouncer.log

            """
        try Data(settings.utf8).write(to: URL(fileURLWithPath: folder + "/pgbouncer.ini"))
        try Data("\"portcullis\" \"\"\n".utf8).write(to: URL(fileURLWithPath: folder + "/users.txt"))
        if front.runAsPostgres {
            try TestPostgres.run(["/bin/chown", "-R", "postgres:postgres", folder])
        }
        let command = [binary, folder + "/pgbouncer.ini"]
        let process = try ChildProcess.start(front.runAsPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + command : command)
        let bouncer = TestPgBouncer(port: port, folder: folder, process: process)
        for _ in 0..<100 where TestPostgres.isFree(port) {
            try await Task.sleep(for: .milliseconds(50))
        }
        guard !TestPostgres.isFree(port) else {
            _ = await process.stop()
            let log = (try? String(contentsOfFile: folder + "/pgbouncer.log", encoding: .utf8)) ?? ""
            throw TestPostgres.Unavailable(description: "PgBouncer did not start on port \(port): \(log.suffix(2_000))")
        }
        return bouncer
    }

    private init(port: Int, folder: String, process: ChildProcess) {
        self.port = port
        self.folder = folder
        self.process = process
    }

    /// A URL for `database` through PgBouncer.
    public func url(database: String) -> String {
        "postgres://portcullis@127.0.0.1:\(port)/\(database)?sslmode=disable"
    }

    public func stop() async {
        _ = await process.stop(grace: .seconds(2))
    }
}
