import Testing
@testable import Probes

@Suite struct SCRAMSHA256Tests {
    // RFC 7677 section 3: user "user", password "pencil", client nonce "rOprNGfwEbeRWgbNEkqO".
    static let serverFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"

    @Test func scram_withRFC7677TestVector_producesTheRFCsClientProof() throws {
        var client = try SCRAMSHA256Client(username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        #expect(client.clientFirstMessage == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        let final = try client.clientFinalMessage(serverFirst: Self.serverFirst)
        #expect(final == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
    }

    @Test func scram_withRFC7677TestVector_acceptsTheRFCsServerSignature() throws {
        var client = try SCRAMSHA256Client(username: "user", password: "pencil", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        _ = try client.clientFinalMessage(serverFirst: Self.serverFirst)
        try client.verifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
    }

    @Test func scram_whenServerSignatureIsForAnotherPassword_rejectsTheServer() throws {
        var client = try SCRAMSHA256Client(username: "user", password: "pencil2", clientNonce: "rOprNGfwEbeRWgbNEkqO")
        _ = try client.clientFinalMessage(serverFirst: Self.serverFirst)
        #expect(throws: SCRAMSHA256Client.Failure.serverSignatureMismatch) {
            try client.verifyServerFinal("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
        }
    }

    @Test func scram_whenServerNonceDoesNotExtendClientNonce_refusesToAnswer() throws {
        var client = try SCRAMSHA256Client(username: "", password: "pencil", clientNonce: "abc")
        #expect(throws: SCRAMSHA256Client.Failure.nonceMismatch) {
            try client.clientFinalMessage(serverFirst: "r=xyzabc,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        }
    }

    @Test func scram_whenServerAsksForFewIterations_refusesAWeakDerivation() throws {
        var client = try SCRAMSHA256Client(username: "", password: "pencil", clientNonce: "abc")
        #expect(throws: SCRAMSHA256Client.Failure.iterationCountTooLow(1)) {
            try client.clientFinalMessage(serverFirst: "r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1")
        }
    }

    @Test func scram_whenServerSendsAnError_reportsItWithoutThePassword() throws {
        var client = try SCRAMSHA256Client(username: "", password: "pencil", clientNonce: "abc")
        _ = try client.clientFinalMessage(serverFirst: "r=abcdef,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")
        do {
            try client.verifyServerFinal("e=invalid-proof")
            Issue.record("an e= answer must fail")
        } catch {
            #expect(error == .serverError("invalid-proof"))
            #expect(!error.description.contains("pencil"))
        }
    }

    @Test func scram_withoutInjectedNonce_generatesAFreshNonceEachTime() throws {
        let first = try SCRAMSHA256Client(username: "", password: "p").clientFirstMessage
        let second = try SCRAMSHA256Client(username: "", password: "p").clientFirstMessage
        #expect(first.hasPrefix("n,,n=,r="))
        #expect(first != second)
    }
}
