// Inputs that carry passwords or tokens describe themselves without them, so that string
// interpolation, `print` and log metadata cannot leak a secret by accident.

extension RDS.CreateDBInstanceInput: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "CreateDBInstanceInput(\(identifier), \(engine) \(instanceClass), password \(masterUserPassword == nil ? "unset" : "redacted"))"
    }
    public var debugDescription: String { description }
}

extension RDS.ModifyDBInstanceInput: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "ModifyDBInstanceInput(\(identifier), password \(masterUserPassword == nil ? "unchanged" : "redacted"))"
    }
    public var debugDescription: String { description }
}

extension ElastiCache.CreateReplicationGroupInput: CustomStringConvertible, CustomDebugStringConvertible {
    public var description: String {
        "CreateReplicationGroupInput(\(id), \(engine) \(nodeType), auth token \(authToken == nil ? "unset" : "redacted"))"
    }
    public var debugDescription: String { description }
}

extension STS.AssumeRoleWithWebIdentityInput: CustomDebugStringConvertible {
    public var debugDescription: String { description }
}
