/// The CloudWatch alarm operations the operator uses; `CloudWatchClient` talks to AWS.
public protocol CloudWatchAPI: Sendable {
    func putMetricAlarm(_ alarm: CloudWatch.MetricAlarm) async throws(AWSError)
    /// Alarms with these names (all alarms with the prefix when `namePrefix` is given instead).
    func describeAlarms(names: [String], namePrefix: String?) async throws(AWSError) -> [CloudWatch.MetricAlarm]
    func deleteAlarms(names: [String]) async throws(AWSError)
}

/// Shapes of the CloudWatch API (2010-08-01, Query protocol), only the fields used.
public enum CloudWatch {
    public struct Dimension: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A single-metric alarm, as PutMetricAlarm takes it and DescribeAlarms returns it.
    public struct MetricAlarm: Sendable, Equatable {
        public var name: String
        public var description: String?
        public var namespace: String
        public var metricName: String
        public var dimensions: [Dimension]
        /// "Average", "Maximum", "Sum", …
        public var statistic: String
        public var periodSeconds: Int
        public var evaluationPeriods: Int
        public var threshold: Double
        /// "GreaterThanThreshold", "LessThanOrEqualToThreshold", …
        public var comparisonOperator: String
        public var treatMissingData: String?
        public var alarmActions: [String]
        public var okActions: [String]
        public var tags: [AWSTag]
        /// Filled by DescribeAlarms.
        public var arn: String?
        public var stateValue: String?

        public init(
            name: String, description: String? = nil, namespace: String, metricName: String, dimensions: [Dimension] = [],
            statistic: String, periodSeconds: Int, evaluationPeriods: Int, threshold: Double, comparisonOperator: String,
            treatMissingData: String? = nil, alarmActions: [String] = [], okActions: [String] = [], tags: [AWSTag] = [],
            arn: String? = nil, stateValue: String? = nil
        ) {
            self.name = name
            self.description = description
            self.namespace = namespace
            self.metricName = metricName
            self.dimensions = dimensions
            self.statistic = statistic
            self.periodSeconds = periodSeconds
            self.evaluationPeriods = evaluationPeriods
            self.threshold = threshold
            self.comparisonOperator = comparisonOperator
            self.treatMissingData = treatMissingData
            self.alarmActions = alarmActions
            self.okActions = okActions
            self.tags = tags
            self.arn = arn
            self.stateValue = stateValue
        }
    }

    static func parameters(_ alarm: MetricAlarm) -> QueryParameters {
        var p = QueryParameters(action: "PutMetricAlarm", version: AWSService.cloudWatch.apiVersion)
        p.add("AlarmName", alarm.name)
        p.add("AlarmDescription", alarm.description)
        p.add("OKActions", list: alarm.okActions)
        p.add("AlarmActions", list: alarm.alarmActions)
        p.add("MetricName", alarm.metricName)
        p.add("Namespace", alarm.namespace)
        p.add("Statistic", alarm.statistic)
        for (index, dimension) in alarm.dimensions.enumerated() {
            p.add("Dimensions.member.\(index + 1).Name", dimension.name)
            p.add("Dimensions.member.\(index + 1).Value", dimension.value)
        }
        p.add("Period", alarm.periodSeconds)
        p.add("EvaluationPeriods", alarm.evaluationPeriods)
        p.add("Threshold", alarm.threshold)
        p.add("ComparisonOperator", alarm.comparisonOperator)
        p.add("TreatMissingData", alarm.treatMissingData)
        p.add("Tags", tags: alarm.tags, member: "member")
        return p
    }

    static func decodeAlarm(_ element: XMLElement) -> MetricAlarm {
        MetricAlarm(
            name: element.string("AlarmName") ?? "",
            description: element.string("AlarmDescription"),
            namespace: element.string("Namespace") ?? "",
            metricName: element.string("MetricName") ?? "",
            dimensions: element.child("Dimensions")?.children("member").map {
                Dimension(name: $0.string("Name") ?? "", value: $0.string("Value") ?? "")
            } ?? [],
            statistic: element.string("Statistic") ?? "",
            periodSeconds: element.int("Period") ?? 0,
            evaluationPeriods: element.int("EvaluationPeriods") ?? 0,
            threshold: element.double("Threshold") ?? 0,
            comparisonOperator: element.string("ComparisonOperator") ?? "",
            treatMissingData: element.string("TreatMissingData"),
            alarmActions: element.strings("AlarmActions"),
            okActions: element.strings("OKActions"),
            arn: element.string("AlarmArn"),
            stateValue: element.string("StateValue"))
    }
}

/// CloudWatch over the Query protocol (still offered beside JSON and CBOR).
public struct CloudWatchClient: CloudWatchAPI {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    public func putMetricAlarm(_ alarm: CloudWatch.MetricAlarm) async throws(AWSError) {
        _ = try await client.query(.cloudWatch, CloudWatch.parameters(alarm))
    }

    public func describeAlarms(names: [String], namePrefix: String?) async throws(AWSError) -> [CloudWatch.MetricAlarm] {
        var alarms: [CloudWatch.MetricAlarm] = []
        var token: String?
        repeat {
            var p = QueryParameters(action: "DescribeAlarms", version: AWSService.cloudWatch.apiVersion)
            p.add("AlarmNames", list: names)
            p.add("AlarmNamePrefix", namePrefix)
            p.add("NextToken", token)
            let result = try await client.query(.cloudWatch, p)
            alarms += result.child("MetricAlarms")?.children("member").map(CloudWatch.decodeAlarm) ?? []
            token = result.string("NextToken").flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return alarms
    }

    public func deleteAlarms(names: [String]) async throws(AWSError) {
        guard !names.isEmpty else { return }
        var p = QueryParameters(action: "DeleteAlarms", version: AWSService.cloudWatch.apiVersion)
        p.add("AlarmNames", list: names)
        _ = try await client.query(.cloudWatch, p)
    }
}
