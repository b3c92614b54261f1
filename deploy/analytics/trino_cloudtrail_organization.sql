-- Trino (Hive connector) table and view over an orgtrail trail's S3 delivery in the organization
-- layout
--   s3://<bucket>/<prefix>/AWSLogs/<o-org>/<account>/CloudTrail/<region>/YYYY/MM/DD/
-- with partition projection on account, region and day (Trino reads the same projection as
-- Athena: no partition is ever added by hand).
--
-- A CloudTrail log file is one JSON object {"Records":[...]} per file, and Trino has no CloudTrail
-- SerDe: the table holds one row per log file (its records as an array, read with the OpenX JSON
-- SerDe, which keeps nested objects of STRING columns as JSON text, like Athena's CloudTrail
-- table), and the view `orgtrail_cloudtrail` unnests it into one row per record with CloudTrail's
-- Athena column names, so queries written for CloudTrail's Athena table run unchanged on the view.
--
-- Replace the <...> placeholders (catalog `hive` and schema `cloudtrail` are examples; list your
-- accounts and regions). tests/integration/analytics_duckdb_test.cc checks the location template
-- against the folders the real collector writes, the row type against every field of the records,
-- and that the view names every field of the row type in order.
CREATE TABLE hive.cloudtrail.orgtrail_cloudtrail_files (
    records ARRAY(ROW(
        eventversion VARCHAR,
        useridentity ROW(
            type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, invokedby VARCHAR,
            accesskeyid VARCHAR, username VARCHAR,
            onbehalfof ROW(userid VARCHAR, identitystorearn VARCHAR),
            sessioncontext ROW(
                attributes ROW(mfaauthenticated VARCHAR, creationdate VARCHAR),
                sessionissuer ROW(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, username VARCHAR),
                ec2roledelivery VARCHAR,
                webidfederationdata ROW(federatedprovider VARCHAR, attributes MAP(VARCHAR, VARCHAR)),
                sourceidentity VARCHAR)),
        eventtime VARCHAR,
        eventsource VARCHAR,
        eventname VARCHAR,
        awsregion VARCHAR,
        sourceipaddress VARCHAR,
        useragent VARCHAR,
        errorcode VARCHAR,
        errormessage VARCHAR,
        requestparameters VARCHAR,
        responseelements VARCHAR,
        additionaleventdata VARCHAR,
        requestid VARCHAR,
        eventid VARCHAR,
        readonly VARCHAR,
        resources ARRAY(ROW(arn VARCHAR, accountid VARCHAR, type VARCHAR)),
        eventtype VARCHAR,
        apiversion VARCHAR,
        recipientaccountid VARCHAR,
        serviceeventdetails VARCHAR,
        sharedeventid VARCHAR,
        vpcendpointid VARCHAR,
        vpcendpointaccountid VARCHAR,
        eventcategory VARCHAR,
        managementevent BOOLEAN,
        sessioncredentialfromconsole VARCHAR,
        edgedevicedetails VARCHAR,
        tlsdetails ROW(tlsversion VARCHAR, ciphersuite VARCHAR, clientprovidedhostheader VARCHAR)
    )),
    account VARCHAR WITH (
        partition_projection_type = 'ENUM',
        partition_projection_values = ARRAY['<account-1>', '<account-2>']),
    region VARCHAR WITH (
        partition_projection_type = 'ENUM',
        partition_projection_values = ARRAY['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'eu-west-1',
                                            'eu-central-1', 'ap-southeast-1']),
    day VARCHAR WITH (
        partition_projection_type = 'DATE',
        partition_projection_format = 'yyyy/MM/dd',
        partition_projection_range = ARRAY['2024/01/01', 'NOW'],
        partition_projection_interval = 1,
        partition_projection_interval_unit = 'DAYS')
)
WITH (
    format = 'OPENX_JSON',
    external_location = 's3://<bucket>/<prefix>/AWSLogs/<o-org>/',
    partitioned_by = ARRAY['account', 'region', 'day'],
    partition_projection_enabled = true,
    partition_projection_location_template = 's3://<bucket>/<prefix>/AWSLogs/<o-org>/${account}/CloudTrail/${region}/${day}'
);

CREATE VIEW hive.cloudtrail.orgtrail_cloudtrail AS
SELECT r.*, f.account, f.region, f.day
FROM hive.cloudtrail.orgtrail_cloudtrail_files AS f
CROSS JOIN UNNEST(f.records) AS r (
    eventversion, useridentity, eventtime, eventsource, eventname, awsregion, sourceipaddress,
    useragent, errorcode, errormessage, requestparameters, responseelements, additionaleventdata,
    requestid, eventid, readonly, resources, eventtype, apiversion, recipientaccountid,
    serviceeventdetails, sharedeventid, vpcendpointid, vpcendpointaccountid, eventcategory,
    managementevent, sessioncredentialfromconsole, edgedevicedetails, tlsdetails);
