import COpenSSL

// PEM and DER move between Swift and OpenSSL through short-lived memory BIOs; these helpers
// keep the allocation and freeing in one place.

/// Runs `body` with a read-only memory BIO over `bytes`; the BIO is freed afterwards.
func withReadableBIO<Result>(
    _ bytes: [UInt8], _ kind: TLSError.Kind, _ body: (OpaquePointer) throws(TLSError) -> Result
) throws(TLSError) -> Result {
    // BIO_new_mem_buf does not copy, so the array must outlive the BIO: keep both in scope.
    let copy = bytes
    let result: Swift.Result<Result, TLSError> = copy.withUnsafeBytes { raw in
        guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
            return .failure(.fromQueue(kind, "could not allocate a memory BIO"))
        }
        defer { BIO_free(bio) }
        do throws(TLSError) { return .success(try body(bio)) } catch { return .failure(error) }
    }
    return try result.get()
}

/// Runs `write` against a fresh memory BIO and returns everything written to it.
func collectingBIOOutput(
    _ kind: TLSError.Kind, _ write: (OpaquePointer) -> Bool
) throws(TLSError) -> [UInt8] {
    guard let bio = BIO_new(BIO_s_mem()) else {
        throw .fromQueue(kind, "could not allocate a memory BIO")
    }
    defer { BIO_free(bio) }
    guard write(bio) else { throw .fromQueue(kind, "OpenSSL refused to write the value") }
    return readAllPending(bio)
}

/// Drains everything buffered in a memory BIO.
func readAllPending(_ bio: OpaquePointer) -> [UInt8] {
    var data: UnsafeMutablePointer<CChar>? = nil
    let length = copenssl_bio_get_mem_data(bio, &data)
    guard length > 0, let data else { return [] }
    return data.withMemoryRebound(to: UInt8.self, capacity: length) {
        Array(UnsafeBufferPointer(start: $0, count: length))
    }
}
