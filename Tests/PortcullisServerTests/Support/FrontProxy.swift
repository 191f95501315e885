import Foundation
import PortcullisTestSupport

/// A real nginx or Caddy in front of an app, asking the gateway about every request: the
/// configuration files under `conf/forward-auth/` exactly as the README shows them, with the
/// example host, addresses and certificate paths replaced by the test's.
final class FrontProxy: @unchecked Sendable {
    enum Kind: String, Sendable {
        case nginx
        case caddy
    }

    let kind: Kind
    let port: Int
    let folder: String
    /// Caddy runs in the foreground as our child; nginx daemonizes and is stopped by signal.
    private let caddy: Process?

    private init(kind: Kind, port: Int, folder: String, caddy: Process?) {
        self.kind = kind
        self.port = port
        self.folder = folder
        self.caddy = caddy
    }

    /// - Parameters:
    ///   - gatewayPort: the gateway's TLS listener.
    ///   - appPort: the app (the test upstream).
    ///   - certificates: `server.pem`, `server-key.pem` and `ca.pem` for both the proxy's own TLS
    ///     and its trust in the gateway.
    static func start(_ kind: Kind, port: Int, gatewayPort: Int, appPort: Int, certificates: TestCertificates) async throws -> FrontProxy {
        let folder = NSTemporaryDirectory() + "portcullis-\(kind.rawValue)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: true)
        let source = FixturePaths.repositoryRoot + "/conf/forward-auth/" + (kind == .nginx ? "nginx.conf" : "Caddyfile")
        var text = try String(contentsOfFile: source, encoding: .utf8)
        var replacements: [(String, String)] = [
            ("/etc/ssl/app.example.com.pem", certificates.folder + "/server.pem"),
            ("/etc/ssl/app.example.com.key", certificates.folder + "/server-key.pem"),
            ("/etc/portcullis/ca.pem", certificates.folder + "/ca.pem"),
            ("127.0.0.1:8443", "127.0.0.1:\(gatewayPort)"),
            ("127.0.0.1:8080", "127.0.0.1:\(appPort)"),
        ]
        switch kind {
        case .nginx:
            replacements += [("listen 443 ssl;", "listen 127.0.0.1:\(port) ssl;"), ("server_name app.example.com;", "server_name localhost;")]
        case .caddy:
            replacements += [("\napp.example.com {", "\nhttps://localhost:\(port) {")]
        }
        for (from, to) in replacements {
            guard text.contains(from) else { throw TestFailure("\(source) no longer contains \(from)") }
            text = text.replacingOccurrences(of: from, with: to)
        }
        switch kind {
        case .nginx:
            let user = getuid() == 0 ? "user root;\n" : ""
            let configuration = """
            \(user)worker_processes 1;
            pid \(folder)/nginx.pid;
            error_log \(folder)/logs/error.log info;
            events { worker_connections 256; }
            http {
              access_log \(folder)/logs/access.log;
              client_body_temp_path \(folder)/body;
              proxy_temp_path \(folder)/proxy;
              fastcgi_temp_path \(folder)/fastcgi;
              uwsgi_temp_path \(folder)/uwsgi;
              scgi_temp_path \(folder)/scgi;
            \(text)
            }
            """
            try configuration.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
            let (status, output) = try Subprocess.run(["nginx", "-p", folder, "-c", folder + "/nginx.conf"])
            guard status == 0 else { throw TestFailure("nginx did not start (\(status)): \(output)") }
            let proxy = FrontProxy(kind: kind, port: port, folder: folder, caddy: nil)
            try await proxy.waitForPort()
            return proxy
        case .caddy:
            let configuration = """
            {
            \tadmin off
            \tauto_https disable_redirects
            \tstorage file_system \(folder)/data
            \tskip_install_trust
            }

            \(text)
            """
            try configuration.write(toFile: folder + "/Caddyfile", atomically: true, encoding: .utf8)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/caddy")
            process.arguments = ["run", "--config", folder + "/Caddyfile", "--adapter", "caddyfile"]
            process.environment = ["HOME": folder, "XDG_DATA_HOME": folder + "/data", "XDG_CONFIG_HOME": folder + "/config"]
            guard FileManager.default.createFile(atPath: folder + "/logs/caddy.log", contents: nil),
                  let log = FileHandle(forWritingAtPath: folder + "/logs/caddy.log")
            else { throw TestFailure("cannot write \(folder)/logs/caddy.log") }
            process.standardOutput = log
            process.standardError = log
            try process.run()
            let proxy = FrontProxy(kind: kind, port: port, folder: folder, caddy: process)
            do {
                try await proxy.waitForPort()
            } catch {
                let output = (try? String(contentsOfFile: folder + "/logs/caddy.log", encoding: .utf8)) ?? ""
                proxy.stop()
                throw TestFailure("caddy did not start: \(output.suffix(2_000))")
            }
            return proxy
        }
    }

    private func waitForPort() async throws {
        for _ in 0..<250 {
            if await SSOHarness.isListening(port) { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("\(kind) does not listen on \(port)")
    }

    var errorLog: String {
        let file = kind == .nginx ? "/logs/error.log" : "/logs/caddy.log"
        return (try? String(contentsOfFile: folder + file, encoding: .utf8)) ?? ""
    }

    /// Stops the proxy: TERM, a moment to finish, then KILL; waits until it is gone.
    func stop() {
        switch kind {
        case .nginx:
            _ = try? Subprocess.run(["nginx", "-p", folder, "-c", folder + "/nginx.conf", "-s", "stop"])
            for _ in 0..<100 where FileManager.default.fileExists(atPath: folder + "/nginx.pid") {
                usleep(20_000)
            }
        case .caddy:
            if let caddy, caddy.isRunning {
                caddy.terminate()
                for _ in 0..<100 where caddy.isRunning { usleep(20_000) }
                if caddy.isRunning { kill(caddy.processIdentifier, SIGKILL) }
                caddy.waitUntilExit()
            }
        }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
