import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOPosix
import NIOSSL
import PortcullisCore
import PortcullisTestSupport
import SwiftASN1
import Testing
import X509
import PortcullisDataPath

extension ServerTests {
@Suite("TLS listener")
struct TLSListenerTests {
    @Test("TLS 1.0 and 1.1 are refused; 1.2 and 1.3 are accepted")
    func versions() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let roots = try gateway.certificates.trustRoots()
        for version in [NIOSSL.TLSVersion.tlsv1, .tlsv11] {
            await #expect(throws: (any Error).self) {
                let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: roots, minimumVersion: version, maximumVersion: version)
                await client.close()
            }
        }
        for version in [NIOSSL.TLSVersion.tlsv12, .tlsv13] {
            let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: roots, minimumVersion: version, maximumVersion: version)
            try await client.send("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let response = await client.wait { $0.contains("bodySHA256") }
            #expect(response.hasPrefix("HTTP/1.1 200"))
            await client.close()
        }
    }

    @Test("TLS 1.2 offers only ECDHE with AEAD ciphers")
    func cipherSuites() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        var weak = NIOSSL.TLSConfiguration.makeClientConfiguration()
        weak.cipherSuites = "AES128-SHA:AES256-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA"
        weak.maximumTLSVersion = .tlsv12
        weak.trustRoots = try gateway.certificates.trustRoots()
        let context = try NIOSSLContext(configuration: weak)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: context, serverHostname: "localhost"))
                }
            }
            .connect(host: "127.0.0.1", port: gateway.port).get()
        try? await channel.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        // The handshake fails: no shared cipher. The connection closes without an HTTP answer.
        try await channel.closeFuture.get()
        // ECDHE-{ECDSA,RSA} with AES-GCM or ChaCha20-Poly1305 only (IANA values).
        #expect(Set(ServerTLSContext.tls12CipherSuites.map(\.rawValue)) == [0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8])
    }

    @Test("ALPN negotiates HTTP/2, and requests work over it")
    func http2() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let (response, body) = try await gateway.fetch("/echo")
        #expect(response.status == .ok)
        #expect(response.version == .http2)
        let echo = try JSONDecoder().decode(TestUpstream.Echo.self, from: Data(buffer: body))
        #expect(echo.method == "GET")
        let (http1Response, _) = try await gateway.fetch("/echo", http1: true)
        #expect(http1Response.version == .http1_1)
    }

    @Test("SNI picks the certificate whose SANs name the host")
    func sni() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let second = try gateway.certificates.issue("admin", dnsNames: ["admin.test", "*.tools.test"], commonName: "admin.test")
        let first = CertificateFiles(certificateFile: gateway.certificates.folder + "/server.pem", keyFile: gateway.certificates.folder + "/server-key.pem")
        #expect(gateway.gateway.tls.reload(configuration: TLSSettings(certificates: [first, second]), logger: gateway.logs.logger()))
        let roots = try gateway.certificates.trustRoots()
        for (name, expected) in [("admin.test", "admin.test"), ("ci.tools.test", "admin.test"), ("localhost", "localhost")] {
            let client = try await RawTLSClient.connect(port: gateway.port, serverName: name, trustRoots: roots)
            let certificate = try #require(client.peerCertificate)
            let parsed = try Certificate(derEncoded: try certificate.toDERBytes())
            #expect(parsed.subject.description.contains("CN=\(expected)"), "SNI \(name) got \(parsed.subject)")
            await client.close()
        }
        // An unknown name gets the default (first) certificate.
        let fallback = try await RawTLSClient.connect(port: gateway.port, serverName: nil, trustRoots: roots)
        let parsed = try Certificate(derEncoded: try #require(fallback.peerCertificate).toDERBytes())
        #expect(parsed.subject.description.contains("CN=localhost"))
        await fallback.close()
    }

    @Test("a reloaded certificate is served to new connections while an old connection keeps working")
    func reloadKeepsOldConnections() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let roots = try gateway.certificates.trustRoots()
        let old = try await RawTLSClient.connect(port: gateway.port, trustRoots: roots)
        let oldSerial = try Certificate(derEncoded: try #require(old.peerCertificate).toDERBytes()).serialNumber

        // Replace the files and reload, as SIGHUP or the file watcher does.
        try gateway.certificates.issue("server", dnsNames: ["localhost"], ipAddresses: [IPAddress(ipv4: 127, 0, 0, 1)], commonName: "localhost")
        #expect(gateway.gateway.tls.reloadIfChanged(logger: gateway.logs.logger()) || gateway.gateway.tls.reload(logger: gateway.logs.logger()))

        let fresh = try await RawTLSClient.connect(port: gateway.port, trustRoots: roots)
        let newSerial = try Certificate(derEncoded: try #require(fresh.peerCertificate).toDERBytes()).serialNumber
        #expect(newSerial != oldSerial)

        // The old connection still serves requests.
        try await old.send("GET /echo HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let response = await old.wait { $0.contains("bodySHA256") }
        #expect(response.hasPrefix("HTTP/1.1 200"))
        await old.close()
        await fresh.close()
    }

    @Test("a bad certificate file keeps the old certificate and says why")
    func badReloadKeepsOld() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let roots = try gateway.certificates.trustRoots()
        let before = try await RawTLSClient.connect(port: gateway.port, trustRoots: roots)
        let serial = try Certificate(derEncoded: try #require(before.peerCertificate).toDERBytes()).serialNumber
        await before.close()

        try gateway.certificates.write("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n", "server.pem")
        #expect(!gateway.gateway.tls.reload(logger: gateway.logs.logger()))
        #expect(gateway.logs.all.contains { $0.message.contains("reload failed") && ($0.metadata["reason"] ?? "").contains("server.pem") })

        let after = try await RawTLSClient.connect(port: gateway.port, trustRoots: roots)
        #expect(try Certificate(derEncoded: try #require(after.peerCertificate).toDERBytes()).serialNumber == serial)
        await after.close()
    }

    @Test("a key that does not match its certificate is refused with the file named")
    func mismatchedKey() throws {
        let certificates = try TestCertificates()
        defer { certificates.remove() }
        let one = try certificates.issue("one", dnsNames: ["one.test"])
        let two = try certificates.issue("two", dnsNames: ["two.test"])
        do {
            _ = try ServerCertificate.load(CertificateFiles(certificateFile: one.certificateFile, keyFile: two.keyFile))
            Issue.record("accepted a mismatched key")
        } catch {
            #expect(error.description.contains(two.keyFile))
            #expect(error.description.contains("does not match"))
        }
    }

    @Test("HSTS is on every response")
    func hsts() async throws {
        let gateway = try await TestGateway.start()
        defer { Task { await gateway.stop() } }
        let (response, _) = try await gateway.fetch("/echo")
        #expect(response.headers.first(name: "strict-transport-security") == "max-age=31536000")
        let client = try await RawTLSClient.connect(port: gateway.port, trustRoots: try gateway.certificates.trustRoots())
        try await client.send("GET /%zz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        let refused = await client.wait { $0.contains("bad_path") }
        #expect(refused.hasPrefix("HTTP/1.1 400"))
        #expect(refused.lowercased().contains("strict-transport-security: max-age=31536000"))
        await client.close()
    }
}
}
