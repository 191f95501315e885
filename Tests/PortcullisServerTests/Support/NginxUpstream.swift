import Foundation
import PortcullisTestSupport

/// Debian's nginx as an upstream on loopback: it answers `200 ok` to every request and logs
/// each request it parsed (method, path, and any `X-Portcullis-User`/`-Role` it received), so a
/// test can compare what a real server read with what the gateway's access log shows.
final class NginxUpstream: Sendable {
    let port: Int
    let folder: String

    private init(port: Int, folder: String) {
        self.port = port
        self.folder = folder
    }

    static func start() throws -> NginxUpstream {
        let folder = NSTemporaryDirectory() + "portcullis-nginx-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/logs", withIntermediateDirectories: true)
        let port = Int.random(in: 20_000...29_999)
        let user = getuid() == 0 ? "user root;\n" : ""
        let configuration = """
        \(user)worker_processes 1;
        pid \(folder)/nginx.pid;
        error_log \(folder)/logs/error.log warn;
        events { worker_connections 256; }
        http {
          log_format hostile '$request_method $uri user=$http_x_portcullis_user role=$http_x_portcullis_role';
          access_log \(folder)/logs/access.log hostile;
          client_body_temp_path \(folder)/body;
          proxy_temp_path \(folder)/proxy;
          fastcgi_temp_path \(folder)/fastcgi;
          uwsgi_temp_path \(folder)/uwsgi;
          scgi_temp_path \(folder)/scgi;
          server {
            listen 127.0.0.1:\(port);
            location / { return 200 "ok"; }
          }
        }
        """
        try configuration.write(toFile: folder + "/nginx.conf", atomically: true, encoding: .utf8)
        let (status, output) = try Subprocess.run(["nginx", "-p", folder, "-c", folder + "/nginx.conf"])
        guard status == 0 else { throw TestFailure("nginx did not start (\(status)): \(output)") }
        return NginxUpstream(port: port, folder: folder)
    }

    /// The lines nginx logged, one per request it parsed.
    func accessLog() throws -> [String] {
        let text = (try? String(contentsOfFile: folder + "/logs/access.log", encoding: .utf8)) ?? ""
        return text.split(separator: "\n").map(String.init)
    }

    func stop() {
        _ = try? Subprocess.run(["nginx", "-p", folder, "-c", folder + "/nginx.conf", "-s", "stop"])
        for _ in 0..<50 where FileManager.default.fileExists(atPath: folder + "/nginx.pid") {
            usleep(20_000)
        }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
