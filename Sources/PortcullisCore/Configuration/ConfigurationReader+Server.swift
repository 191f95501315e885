/// `server`: listeners, TLS certificates, limits.
extension ConfigurationReader {
    func readServer(_ value: ConfigValue) -> ServerConfiguration? {
        guard let map = value.mapping(keys: [
            "listen", "public_url", "tls", "internal_listen", "trusted_proxies", "proxy_protocol", "limits",
            "shutdown_grace",
        ]) else { return nil }
        let listen = map.required("listen", "host:port").flatMap(readListen)
        let publicURL = map.required("public_url", "the https origin users see").flatMap { value -> PublicURL? in
            guard let text = value.string(), let url = PublicURL(parsing: text) else {
                value.expected("an https:// origin with no path, such as \"https://localhost:8443\"")
                return nil
            }
            return url
        }
        let tls = map.required("tls", "certificates").flatMap(readTLS)
        let internalListen = map["internal_listen"].map(readListen) ?? ListenAddress(host: "127.0.0.1", port: 9090)
        let trusted = map["trusted_proxies"].map { $0.list(readRange) } ?? []
        let proxyProtocol = map["proxy_protocol"].map { $0.bool() } ?? false
        let limits = map["limits"].map(readLimits) ?? .defaults
        let grace = map["shutdown_grace"].map { $0.duration(within: .zero ... .seconds(3_600)) } ?? .seconds(30)
        if let listen, let internalListen, listen == internalListen, listen.port != 0 {
            map.problem("internal_listen must differ from listen")
        }
        guard let listen, let publicURL, let tls, let internalListen, let trusted, let proxyProtocol,
              let limits, let grace else { return nil }
        return ServerConfiguration(
            listen: listen, publicURL: publicURL, tls: tls, internalListen: internalListen,
            trustedProxies: trusted, proxyProtocol: proxyProtocol, limits: limits, shutdownGrace: grace
        )
    }

    func readListen(_ value: ConfigValue) -> ListenAddress? {
        guard let text = value.string(), let address = ListenAddress(parsing: text) else {
            value.expected("host:port such as \"127.0.0.1:8443\" or \"[::]:8443\"")
            return nil
        }
        return address
    }

    func readTLS(_ value: ConfigValue) -> TLSSettings? {
        guard let map = value.mapping(keys: ["certificates", "min_version", "hsts_max_age"]) else { return nil }
        let certificates = map.required("certificates", "a list of { cert_file, key_file }").flatMap { list in
            list.list { item -> CertificateFiles? in
                guard let pair = item.mapping(keys: ["cert_file", "key_file"]) else { return nil }
                let cert = pair.required("cert_file", "a PEM certificate chain").flatMap { requiredFile($0) }
                let key = pair.required("key_file", "a PEM private key").flatMap { secretFile($0) }
                guard let cert, let key else { return nil }
                return CertificateFiles(certificateFile: cert, keyFile: key)
            }
        }
        if let certificates, certificates.isEmpty, let list = map["certificates"], case .sequence(let items, _) = list.node,
           items.isEmpty {
            list.expected("at least one certificate")
        }
        let minimum = map["min_version"].map { value -> TLSSettings.MinimumVersion? in
            guard let text = value.string(), let version = TLSSettings.MinimumVersion(rawValue: text) else {
                value.expected("\"1.2\" or \"1.3\" (older versions are never offered)")
                return nil
            }
            return version
        } ?? .tls12
        let hsts = map["hsts_max_age"].map { $0.duration(within: .zero ... .seconds(2 * 31_536_000)) } ?? .seconds(31_536_000)
        guard let certificates, !certificates.isEmpty, let minimum, let hsts else { return nil }
        return TLSSettings(certificates: certificates, minimumVersion: minimum, hstsMaxAge: hsts)
    }

    func readLimits(_ value: ConfigValue) -> ServerLimits? {
        guard let map = value.mapping(keys: [
            "max_header_bytes", "header_timeout", "idle_timeout", "max_body_bytes", "max_token_bytes", "max_connections",
            "body_timeout", "send_timeout", "stream_idle_timeout",
        ]) else { return nil }
        let defaults = ServerLimits.defaults
        let header = map["max_header_bytes"].map { $0.byteCount(in: 1_024 ... 1_048_576) } ?? defaults.maxHeaderBytes
        let headerTimeout = map["header_timeout"].map { $0.duration(within: .milliseconds(100) ... .seconds(300)) }
            ?? defaults.headerTimeout
        let idle = map["idle_timeout"].map { $0.duration(within: .seconds(1) ... .seconds(3_600)) } ?? defaults.idleTimeout
        let body = map["max_body_bytes"].map { $0.byteCount(in: 1_024 ... 1_073_741_824) } ?? defaults.maxBodyBytes
        let token = map["max_token_bytes"].map { $0.byteCount(in: 1_024 ... 262_144) } ?? defaults.maxTokenBytes
        let connections = map["max_connections"].map { $0.integer(in: 1 ... 1_000_000) } ?? defaults.maxConnections
        let bodyTimeout = map["body_timeout"].map { $0.duration(within: .milliseconds(100) ... .seconds(3_600)) }
            ?? defaults.bodyTimeout
        let sendTimeout = map["send_timeout"].map { $0.duration(within: .milliseconds(100) ... .seconds(3_600)) }
            ?? defaults.sendTimeout
        let streamIdle = map["stream_idle_timeout"].map { $0.duration(within: .milliseconds(100) ... .seconds(86_400)) }
            ?? defaults.streamIdleTimeout
        guard let header, let headerTimeout, let idle, let body, let token, let connections, let bodyTimeout, let sendTimeout,
              let streamIdle
        else { return nil }
        return ServerLimits(
            maxHeaderBytes: header, headerTimeout: headerTimeout, idleTimeout: idle,
            maxBodyBytes: body, maxTokenBytes: token, maxConnections: connections,
            bodyTimeout: bodyTimeout, sendTimeout: sendTimeout, streamIdleTimeout: streamIdle
        )
    }
}
