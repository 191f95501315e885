import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1
import NIOSSL
import PortcullisCore
import Synchronization

/// Talks to the IdP over HTTPS (AsyncHTTPClient): discovery, the token endpoint and the JWKS.
/// Redirects are refused and responses are not decompressed (both set explicitly), bodies are
/// bounded, and the IdP's certificate is verified against the system roots plus an optional
/// extra CA.
package final class OIDCProviderClient: Sendable {
    package struct Failure: Error, CustomStringConvertible, Sendable {
        package let step: String
        package let reason: String
        /// The provider answered `invalid_grant`: the grant (a refresh token) is no longer valid.
        package var invalidGrant = false
        package var description: String { "\(step): \(reason)" }
    }

    /// What the UserInfo endpoint answered: claims as JSON, or a signed JWT to verify.
    package enum UserInfo: Sendable {
        case claims([String: JSONValue])
        case signed(String)
    }

    package let issuer: String
    private let http: HTTPClient
    private let cached = Mutex<OIDCProviderMetadata?>(nil)
    private let logger: Logger
    static let maximumBody = 1_048_576

    package init(issuer: String, caFile: String?, logger: Logger) throws {
        self.issuer = issuer
        self.logger = logger
        var tls = NIOSSL.TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let caFile {
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
        }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls,
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .seconds(10)),
            decompression: .disabled
        )
        configuration.httpVersion = .automatic
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    package func shutdown() async {
        try? await http.shutdown()
    }

    /// The discovery document, fetched once and kept. Its `issuer` must be the configured one.
    package func metadata() async throws -> OIDCProviderMetadata {
        if let known = cached.withLock({ $0 }) { return known }
        let url = issuer + "/.well-known/openid-configuration"
        let data = try await get(url, step: "discovery")
        let metadata: OIDCProviderMetadata
        do {
            metadata = try JSONDecoder().decode(OIDCProviderMetadata.self, from: data)
        } catch {
            throw Failure(step: "discovery", reason: "the discovery document cannot be read: \(error)")
        }
        guard metadata.issuer == issuer || metadata.issuer == issuer + "/" else {
            throw Failure(step: "discovery", reason: "the document names issuer \(metadata.issuer), not \(issuer)")
        }
        cached.withLock { $0 = metadata }
        logger.info("OIDC discovery loaded", metadata: ["issuer": "\(issuer)"])
        return metadata
    }

    package func jwks() async throws -> Data {
        try await get(try await metadata().jwksURI, step: "jwks")
    }

    /// Exchanges an authorization code (with its PKCE verifier) for tokens, authenticating with
    /// the client secret (`client_secret_basic`).
    package func exchange(code: String, verifier: String, redirectURI: String, clientID: String, clientSecret: String) async throws -> OIDCTokenResponse {
        try await token([
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
            ("code_verifier", verifier), ("client_id", clientID),
        ], clientID: clientID, clientSecret: clientSecret, step: "token")
    }

    /// Uses a refresh token (RFC 6749 §6). A provider that no longer honours it answers
    /// `invalid_grant` (``Failure/invalidGrant``).
    package func refresh(refreshToken: String, clientID: String, clientSecret: String) async throws -> OIDCTokenResponse {
        try await token([("grant_type", "refresh_token"), ("refresh_token", refreshToken), ("client_id", clientID)],
                        clientID: clientID, clientSecret: clientSecret, step: "refresh")
    }

    private func token(_ parameters: [(String, String)], clientID: String, clientSecret: String, step: String) async throws -> OIDCTokenResponse {
        let metadata = try await metadata()
        var request = HTTPClientRequest(url: metadata.tokenEndpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let credentials = Data("\(Self.formEncode(clientID)):\(Self.formEncode(clientSecret))".utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic \(credentials)")
        request.body = .bytes(ByteBuffer(string: parameters.map { "\($0)=\(Self.formEncode($1))" }.joined(separator: "&")))
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(10))
        } catch {
            throw Failure(step: step, reason: "the token endpoint cannot be reached: \(error)")
        }
        let body = try await response.body.collect(upTo: Self.maximumBody)
        guard response.status == .ok else {
            let error = (try? JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: body)))?["error"]?.stringValue
            var failure = Failure(step: step, reason: "the token endpoint refused: \(error.map { String($0.prefix(64)) } ?? "status \(response.status.code)")")
            failure.invalidGrant = error == "invalid_grant"
            throw failure
        }
        do {
            return try JSONDecoder().decode(OIDCTokenResponse.self, from: Data(buffer: body))
        } catch {
            throw Failure(step: step, reason: "the token response cannot be read")
        }
    }

    /// The UserInfo endpoint's answer for an access token (OpenID Connect Core §5.3). `nil`
    /// when the provider has no UserInfo endpoint.
    package func userInfo(accessToken: String) async throws -> UserInfo? {
        guard let endpoint = try await metadata().userinfoEndpoint else { return nil }
        var request = HTTPClientRequest(url: endpoint)
        request.headers.add(name: "Accept", value: "application/json, application/jwt")
        request.headers.add(name: "Authorization", value: "Bearer \(accessToken)")
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(10))
        } catch {
            throw Failure(step: "userinfo", reason: "the UserInfo endpoint cannot be reached: \(error)")
        }
        let body = try await response.body.collect(upTo: Self.maximumBody)
        guard response.status == .ok else {
            throw Failure(step: "userinfo", reason: "the UserInfo endpoint answered \(response.status.code)")
        }
        if response.headers.first(name: "content-type")?.lowercased().hasPrefix("application/jwt") == true {
            return .signed(String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        guard let claims = try? JSONDecoder().decode([String: JSONValue].self, from: Data(buffer: body)) else {
            throw Failure(step: "userinfo", reason: "the UserInfo answer is not a JSON object")
        }
        return .claims(claims)
    }

    private func get(_ url: String, step: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response: HTTPClientResponse
        do {
            response = try await http.execute(request, timeout: .seconds(10))
        } catch {
            throw Failure(step: step, reason: "\(url) cannot be reached: \(error)")
        }
        guard response.status == .ok else {
            throw Failure(step: step, reason: "\(url) answered \(response.status.code)")
        }
        return Data(buffer: try await response.body.collect(upTo: Self.maximumBody))
    }

    /// `application/x-www-form-urlencoded` value encoding.
    package static func formEncode(_ value: String) -> String {
        let allowed = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
