import Crypto
import Foundation
import PortcullisCore
import SwiftASN1
import X509
import PortcullisDataPath

/// A local certificate authority for development and tests: a CA and server certificates it
/// signs, made in-process with swift-certificates. Never for production.
package struct DevelopmentCertificateAuthority: Sendable {
    package let certificate: Certificate
    package let privateKey: Certificate.PrivateKey

    /// A certificate and its key, as issued.
    package struct Issued: Sendable {
        package let certificate: Certificate
        package let privateKey: Certificate.PrivateKey

        package func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }
        package func privateKeyPEM() throws -> String { try privateKey.serializeAsPEM().pemString }
    }

    /// A new CA with a fresh P-256 key, valid for ten years.
    package static func make(commonName: String = "Portcullis Development CA", now: Date = Date()) throws -> Self {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let name = try DistinguishedName {
            OrganizationName("Portcullis (development only)")
            CommonName(commonName)
        }
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3_600),
            notValidAfter: now.addingTimeInterval(10 * 365 * 86_400),
            issuer: name,
            subject: name,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
                SubjectKeyIdentifier(hash: key.publicKey)
            },
            issuerPrivateKey: key
        )
        return Self(certificate: certificate, privateKey: key)
    }

    package init(certificate: Certificate, privateKey: Certificate.PrivateKey) {
        self.certificate = certificate
        self.privateKey = privateKey
    }

    /// A server certificate for these names, signed by this CA.
    package func issueServerCertificate(
        dnsNames: [String],
        ipAddresses: [IPAddress] = [],
        commonName: String? = nil,
        now: Date = Date(),
        validity: TimeInterval = 825 * 86_400
    ) throws -> Issued {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try DistinguishedName {
            OrganizationName("Portcullis (development only)")
            CommonName(commonName ?? dnsNames.first ?? "localhost")
        }
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for address in ipAddresses {
            let bytes: [UInt8]
            if let v4 = address.ipv4 {
                bytes = [UInt8(v4 >> 24), UInt8(v4 >> 16 & 0xFF), UInt8(v4 >> 8 & 0xFF), UInt8(v4 & 0xFF)]
            } else {
                bytes = (0..<16).map { UInt8(truncatingIfNeeded: address.value >> UInt128(8 * (15 - $0))) }
            }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        let sans = SubjectAlternativeNames(names)
        let certificate = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: key.publicKey,
            notValidBefore: now.addingTimeInterval(-3_600),
            notValidAfter: now.addingTimeInterval(validity),
            issuer: self.certificate.subject,
            subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                sans
                AuthorityKeyIdentifier(keyIdentifier: try self.certificate.extensions.subjectKeyIdentifier?.keyIdentifier)
            },
            issuerPrivateKey: privateKey
        )
        return Issued(certificate: certificate, privateKey: key)
    }

    package func certificatePEM() throws -> String { try certificate.serializeAsPEM().pemString }
    package func privateKeyPEM() throws -> String { try privateKey.serializeAsPEM().pemString }
}
