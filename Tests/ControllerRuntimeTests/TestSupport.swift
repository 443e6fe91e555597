import Logging

extension Logger {
    /// A logger that drops everything, so test output shows only test results.
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// A one-shot latch a test opens to let blocked code continue.
actor Latch {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters = []
    }
}

/// Records calls from concurrent code and lets the test wait for a count.
actor CallLog<Value: Sendable> {
    private(set) var values: [Value] = []
    private var waiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

    func append(_ value: Value) {
        values.append(value)
        let ready = waiters.filter { $0.count <= values.count }
        waiters.removeAll { $0.count <= values.count }
        for waiter in ready { waiter.continuation.resume() }
    }

    func waitFor(count: Int) async {
        if values.count >= count { return }
        await withCheckedContinuation { waiters.append((count, $0)) }
    }

    var count: Int { values.count }
}
