"""Bad input: every case is answered with MLflow's error body and the right 4xx, never a 5xx.

Expected codes and messages are MLflow 3.17/3.18's (its handlers, validation and search
utilities, checked against a real `mlflow server`). Where MLflow's text embeds a Python set
(whose order varies) only the stable prefix is compared. Cases where MLflow itself answers
a 5xx or accepts garbage are marked `stricter`: Pitwall must answer a 4xx.
"""

from __future__ import annotations

import pytest

from conftest import assert_error, describe, unique

HINT = " See the API docs for more information about request parameters."
NAME_CHARS = (
    "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
    "spaces ( ), colon(:) and slashes (/)."
)
BAD_PATH = (
    "Names may be treated as files in certain cases, and must not resolve to other names "
    "when treated as such. This name would resolve to "
)
NO_RUN = "0" * 32
IPV = "INVALID_PARAMETER_VALUE"
RDNE = "RESOURCE_DOES_NOT_EXIST"


def missing(param: str) -> str:
    return f"Missing value for required parameter '{param}'.{HINT}"


def bad_type(value_json: str, param: str, pytype: str) -> str:
    return f"Invalid value {value_json} for parameter '{param}' supplied:  Hint: Value was of type '{pytype}'.{HINT}"


@pytest.fixture(scope="module")
def ctx(server):
    exp = server.create_experiment(unique("errors"))
    run = server.create_run(exp)["info"]["run_id"]
    return {"exp": exp, "run": run}


# (id, method, path, body-or-params builder, status, error_code, exact message | None, prefix | None)
def _cases():
    R = "{run}"
    E = "{exp}"
    return [
        # --- malformed JSON and content types
        ("malformed-json-create-exp", "POST", "experiments/create", "raw:{not json", 400, IPV, missing("name"), None),
        ("malformed-json-log-metric", "POST", "runs/log-metric", 'raw:{"run_id": ', 400, IPV, missing("run_id"), None),
        ("no-content-type", "POST", "experiments/create", 'nocontenttype:{"name":"x"}', 400, IPV,
         "Bad Request. Content-Type header is missing.", None),
        ("text-plain-content-type", "POST", "experiments/create", 'textplain:{"name":"x"}', 400, IPV,
         "Bad Request. Content-Type must be one of ['application/json'].", None),
        ("both-spellings-of-a-field", "POST", "runs/log-parameter", {"run_id": R, "runId": R, "key": "q", "value": "v"},
         400, IPV, "Request specifies both 'run_id' and 'runId'; provide only one of them.", None),
        # --- wrong types
        ("exp-name-int", "POST", "experiments/create", {"name": 123}, 400, IPV, bad_type("123", "name", "int"), None),
        ("exp-tags-not-array", "POST", "experiments/create", {"name": "t", "tags": "x"}, 400, IPV,
         bad_type('"x"', "tags", "str"), None),
        ("run-start-time-str", "POST", "runs/create", {"experiment_id": E, "start_time": "abc"}, 400, IPV,
         bad_type('"abc"', "start_time", "str"), None),
        ("metric-value-str", "POST", "runs/log-metric", {"run_id": R, "key": "m", "value": "abc", "timestamp": 1},
         400, IPV, bad_type('"abc"', "value", "str"), None),
        ("metric-step-str", "POST", "runs/log-metric", {"run_id": R, "key": "m", "value": 1.0, "timestamp": 1, "step": "x"},
         400, IPV, bad_type('"x"', "step", "str"), None),
        ("param-value-int", "POST", "runs/log-parameter", {"run_id": R, "key": "p", "value": 5}, 400, IPV,
         bad_type("5", "value", "int"), None),
        ("batch-metrics-not-array", "POST", "runs/log-batch", {"run_id": R, "metrics": {"key": "m"}}, 400, IPV,
         bad_type('{"key":"m"}', "metrics", "dict"), None),
        ("search-runs-max-results-str", "POST", "runs/search", {"experiment_ids": [E], "max_results": "x"}, 400, IPV,
         bad_type('"x"', "max_results", "str"), None),
        ("search-runs-experiment-ids-not-array", "POST", "runs/search", {"experiment_ids": E}, 400, IPV,
         bad_type('"{exp}"', "experiment_ids", "str"), None),
        ("search-runs-order-by-int", "POST", "runs/search", {"experiment_ids": [E], "order_by": [5]}, 400, IPV,
         bad_type("[5]", "order_by", "list"), None),
        ("search-exps-max-results-str", "POST", "experiments/search", {"max_results": "abc"}, 400, IPV,
         bad_type('"abc"', "max_results", "str"), None),
        ("exp-id-not-integer", "GET", "experiments/get", {"experiment_id": "abc"}, 400, IPV,
         "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.", None),
        ("run-in-exp-id-not-integer", "POST", "runs/create", {"experiment_id": "abc"}, 400, IPV,
         "Invalid experiment ID 'abc'. Experiment ID must be a valid integer.", None),
        # --- missing required values
        ("exp-name-missing", "POST", "experiments/create", {}, 400, IPV, missing("name"), None),
        ("exp-name-empty", "POST", "experiments/create", {"name": ""}, 400, IPV, missing("name"), None),
        ("get-exp-missing-id", "GET", "experiments/get", {}, 400, IPV, missing("experiment_id"), None),
        ("get-by-name-missing", "GET", "experiments/get-by-name", {}, 400, IPV, missing("experiment_name"), None),
        ("update-exp-missing-new-name", "POST", "experiments/update", {"experiment_id": E}, 400, IPV, missing("new_name"), None),
        ("get-run-missing-id", "GET", "runs/get", {}, 400, IPV, missing("run_id"), None),
        ("metric-value-missing", "POST", "runs/log-metric", {"run_id": R, "key": "m", "timestamp": 1}, 400, IPV, missing("value"), None),
        ("metric-timestamp-missing", "POST", "runs/log-metric", {"run_id": R, "key": "m", "value": 1.0}, 400, IPV, missing("timestamp"), None),
        ("metric-key-missing", "POST", "runs/log-metric", {"run_id": R, "value": 1.0, "timestamp": 1}, 400, IPV, missing("key"), None),
        ("metric-run-missing", "POST", "runs/log-metric", {"key": "m", "value": 1.0, "timestamp": 1}, 400, IPV, missing("run_id"), None),
        ("batch-run-missing", "POST", "runs/log-batch", {"params": [{"key": "a", "value": "1"}]}, 400, IPV, missing("run_id"), None),
        ("batch-metric-no-timestamp", "POST", "runs/log-batch", {"run_id": R, "metrics": [{"key": "m", "value": 1}]}, 400, IPV,
         missing("metrics[0].timestamp"), None),
        ("batch-metric-no-key", "POST", "runs/log-batch", {"run_id": R, "metrics": [{"value": 1, "timestamp": 1}]}, 400, IPV,
         missing("metrics[0].key"), None),
        ("batch-param-no-key", "POST", "runs/log-batch", {"run_id": R, "params": [{"value": "1"}]}, 400, IPV,
         missing("params[0].key"), None),
        ("history-no-metric-key", "GET", "metrics/get-history", {"run_id": R}, 400, IPV, missing("metric_key"), None),
        ("history-no-run", "GET", "metrics/get-history", {"metric_key": "m"}, 400, IPV, missing("run_id"), None),
        ("bulk-interval-no-runs", "GET", "metrics/get-history-bulk-interval", {"metric_key": "m"}, 400, IPV, missing("run_ids"), None),
        # --- unknown ids
        ("get-exp-unknown", "GET", "experiments/get", {"experiment_id": "999999"}, 404, RDNE, "No Experiment with id=999999 exists", None),
        ("get-by-name-unknown", "GET", "experiments/get-by-name", {"experiment_name": "no-such-exp"}, 404, RDNE,
         "Could not find experiment with name 'no-such-exp'", None),
        ("delete-exp-unknown", "POST", "experiments/delete", {"experiment_id": "999999"}, 404, RDNE, "No Experiment with id=999999 exists", None),
        ("update-exp-unknown", "POST", "experiments/update", {"experiment_id": "999999", "new_name": "z"}, 404, RDNE,
         "No Experiment with id=999999 exists", None),
        ("set-exp-tag-unknown", "POST", "experiments/set-experiment-tag", {"experiment_id": "999999", "key": "k", "value": "v"},
         404, RDNE, "No Experiment with id=999999 exists", None),
        ("create-run-unknown-exp", "POST", "runs/create", {"experiment_id": "999999"}, 404, RDNE, "No Experiment with id=999999 exists", None),
        ("get-run-unknown", "GET", "runs/get", {"run_id": NO_RUN}, 404, RDNE, f"Run with id={NO_RUN} not found", None),
        ("update-run-unknown", "POST", "runs/update", {"run_id": NO_RUN, "status": "FINISHED"}, 404, RDNE, f"Run with id={NO_RUN} not found", None),
        ("delete-run-unknown", "POST", "runs/delete", {"run_id": NO_RUN}, 404, RDNE, f"Run with id={NO_RUN} not found", None),
        ("log-metric-unknown-run", "POST", "runs/log-metric", {"run_id": NO_RUN, "key": "m", "value": 1.0, "timestamp": 1},
         404, RDNE, f"Run with id={NO_RUN} not found", None),
        ("log-param-unknown-run", "POST", "runs/log-parameter", {"run_id": NO_RUN, "key": "p", "value": "v"}, 404, RDNE,
         f"Run with id={NO_RUN} not found", None),
        ("set-tag-unknown-run", "POST", "runs/set-tag", {"run_id": NO_RUN, "key": "t", "value": "v"}, 404, RDNE,
         f"Run with id={NO_RUN} not found", None),
        ("log-batch-unknown-run", "POST", "runs/log-batch", {"run_id": NO_RUN, "params": [{"key": "a", "value": "1"}]}, 404, RDNE,
         f"Run with id={NO_RUN} not found", None),
        ("log-batch-metrics-unknown-run", "POST", "runs/log-batch",
         {"run_id": NO_RUN, "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}]}, 404, RDNE,
         f"Run with id={NO_RUN} not found", None),
        ("log-inputs-unknown-run", "POST", "runs/log-inputs", {"run_id": NO_RUN, "datasets": []}, 404, RDNE,
         f"Run with id={NO_RUN} not found", None),
        ("delete-tag-unknown-key", "POST", "runs/delete-tag", {"run_id": R, "key": "nosuch"}, 404, RDNE,
         "No tag with name: nosuch in run with id {run}", None),
        # --- invalid names and over-long values
        ("exp-name-too-long", "POST", "experiments/create", {"name": "x" * 501}, 400, IPV,
         "'name' exceeds the maximum length of 500 characters", None),
        ("exp-tag-value-too-long", "POST", "experiments/set-experiment-tag", {"experiment_id": E, "key": "k", "value": "v" * 20001},
         400, IPV, "'value' exceeds the maximum length of 20000 characters", None),
        ("metric-key-too-long", "POST", "runs/log-metric", {"run_id": R, "key": "k" * 251, "value": 1.0, "timestamp": 1}, 400, IPV,
         "'Metric name' exceeds the maximum length of 250 characters", None),
        ("param-key-too-long", "POST", "runs/log-parameter", {"run_id": R, "key": "k" * 251, "value": "v"}, 400, IPV,
         "'Param key' exceeds the maximum length of 250 characters", None),
        ("metric-key-bad-chars", "POST", "runs/log-metric", {"run_id": R, "key": "bad!key", "value": 1.0, "timestamp": 1}, 400, IPV,
         f"Invalid value \"bad!key\" for parameter 'name' supplied: {NAME_CHARS}", None),
        ("metric-key-path", "POST", "runs/log-metric", {"run_id": R, "key": "a/../b", "value": 1.0, "timestamp": 1}, 400, IPV,
         f"Invalid value \"a/../b\" for parameter 'name' supplied: {BAD_PATH}'b'", None),
        ("param-key-bad-chars", "POST", "runs/log-parameter", {"run_id": R, "key": "bad!", "value": "v"}, 400, IPV,
         f"Invalid value \"bad!\" for parameter 'key' supplied: {NAME_CHARS}", None),
        ("tag-key-path", "POST", "runs/set-tag", {"run_id": R, "key": "../x", "value": "v"}, 400, IPV,
         f"Invalid value \"../x\" for parameter 'key' supplied: {BAD_PATH}'../x'", None),
        ("batch-metric-key-bad-chars", "POST", "runs/log-batch", {"run_id": R, "metrics": [{"key": "m!", "value": 1, "timestamp": 1}]},
         400, IPV, f"Invalid value \"m!\" for parameter 'metrics[0].name' supplied: {NAME_CHARS}", None),
        ("metric-negative-timestamp", "POST", "runs/log-metric", {"run_id": R, "key": "m", "value": 1.0, "timestamp": -5}, 400, IPV,
         "Invalid value -5 for parameter 'timestamp' supplied: metric 'm' (value=1.0). Timestamp must be a nonnegative long (64-bit integer) ",
         None),
        # --- batch limits and duplicates
        ("batch-duplicate-params", "POST", "runs/log-batch", {"run_id": R, "params": [{"key": "d", "value": "1"}, {"key": "d", "value": "2"}]},
         400, IPV, "Duplicate parameter keys have been submitted: ['d']. Please ensure the request contains only one param value per param key.",
         None),
        ("batch-too-many-params", "POST", "runs/log-batch", {"run_id": R, "params": [{"key": f"k{i}", "value": "1"} for i in range(101)]},
         400, IPV, "A batch logging request can contain at most 100 params. Got 101 params. Please split up params across multiple requests and try again.",
         None),
        ("batch-too-many-tags", "POST", "runs/log-batch", {"run_id": R, "tags": [{"key": f"k{i}", "value": "1"} for i in range(101)]},
         400, IPV, "A batch logging request can contain at most 100 tags. Got 101 tags. Please split up tags across multiple requests and try again.",
         None),
        ("batch-too-many-metrics", "POST", "runs/log-batch",
         {"run_id": R, "metrics": [{"key": "m", "value": 1, "timestamp": 1, "step": i} for i in range(1001)]},
         400, IPV, "A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.",
         None),
        # --- run creation
        ("run-name-and-tag-differ", "POST", "runs/create",
         {"experiment_id": E, "run_name": "a", "tags": [{"key": "mlflow.runName", "value": "b"}]}, 400, IPV,
         "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='a', mlflow.runName='b').",
         None),
        # --- search filters: syntax errors, OR, unknown entities
        ("runs-filter-or", "POST", "runs/search", {"experiment_ids": [E], "filter": "params.a = '1' OR params.b = '2'"}, 400, IPV,
         "Invalid clause(s) in filter string: 'OR'", None),
        ("runs-filter-dangling", "POST", "runs/search", {"experiment_ids": [E], "filter": "params.a = "}, 400, IPV,
         "Invalid clause(s) in filter string: 'params.a', '='", None),
        ("runs-filter-unclosed-quote", "POST", "runs/search", {"experiment_ids": [E], "filter": "params.a = 'x"}, 400, IPV,
         "Invalid clause(s) in filter string: 'params.a', '=', ''', 'x'", None),
        # MLflow lists the tokens of its SQL tokenizer, which joins `a filter` as a name with an
        # alias; Pitwall lists its own tokens, so only the stable part of the text is compared.
        ("runs-filter-garbage", "POST", "runs/search", {"experiment_ids": [E], "filter": "this is not a filter"}, 400, IPV,
         None, "Invalid clause(s) in filter string: 'this', 'is', 'not', "),
        ("runs-filter-double-equals", "POST", "runs/search", {"experiment_ids": [E], "filter": "params.a == '1'"}, 400, IPV,
         None, "Invalid comparator '==' not one of "),
        ("runs-filter-unknown-entity", "POST", "runs/search", {"experiment_ids": [E], "filter": "foo.bar = '1'"}, 400, IPV,
         "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']", None),
        ("runs-filter-unknown-attribute", "POST", "runs/search", {"experiment_ids": [E], "filter": "attributes.foo = '1'"}, 400, IPV,
         None, "Invalid attribute key 'foo' specified. Valid keys are "),
        ("runs-filter-metric-vs-string", "POST", "runs/search", {"experiment_ids": [E], "filter": "metrics.m > 'abc'"}, 400, IPV,
         "Expected numeric value type for metric. Found 'abc'", None),
        ("runs-filter-param-unquoted", "POST", "runs/search", {"experiment_ids": [E], "filter": "params.a = 1"}, 400, IPV,
         "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1", None),
        ("runs-filter-param-bad-comparator", "POST", "runs/search", {"experiment_ids": [E], "filter": "params.a > '1'"}, 400, IPV,
         None, "Invalid comparator '>' not one of "),
        ("runs-filter-metric-is-null", "POST", "runs/search", {"experiment_ids": [E], "filter": "metrics.a IS NULL"}, 400, IPV,
         "IS NULL / IS NOT NULL is only supported for tags and params, not for 'metric' 'a'", None),
        ("runs-filter-start-time-string", "POST", "runs/search", {"experiment_ids": [E], "filter": "attributes.start_time > 'x'"},
         400, IPV, "Expected numeric value type for numeric attribute: start_time. Found 'x'", None),
        ("runs-filter-status-unquoted", "POST", "runs/search", {"experiment_ids": [E], "filter": "attributes.status = RUNNING"},
         400, IPV, "Parameter value is either not quoted or unidentified quote types used for string value RUNNING. Use either single or double quotes.",
         None),
        ("runs-order-by-bad-direction", "POST", "runs/search", {"experiment_ids": [E], "order_by": ["metrics.m DESCENDING"]}, 400, IPV,
         "Invalid ordering key in order_by clause 'metrics.m DESCENDING'.", None),
        ("runs-order-by-too-many-tokens", "POST", "runs/search", {"experiment_ids": [E], "order_by": ["metrics.m ASC DESC"]}, 400, IPV,
         "Invalid order_by clause 'metrics.m ASC DESC'. Could not be parsed.", None),
        ("runs-order-by-unknown-entity", "POST", "runs/search", {"experiment_ids": [E], "order_by": ["foo.m"]}, 400, IPV,
         "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']", None),
        ("runs-order-by-unknown-attribute", "POST", "runs/search", {"experiment_ids": [E], "order_by": ["attributes.foo"]}, 400, IPV,
         None, "Invalid attribute key 'foo' specified. Valid keys are "),
        ("runs-max-results-too-big", "POST", "runs/search", {"experiment_ids": [E], "max_results": 50001}, 400, IPV,
         bad_type("50001", "max_results", "int"), None),
        ("runs-bad-page-token", "POST", "runs/search", {"experiment_ids": [E], "page_token": "garbage"}, 400, IPV,
         "Invalid page token, could not base64-decode", None),
        ("exps-filter-or", "POST", "experiments/search", {"max_results": 10, "filter": "name = 'a' OR name = 'b'"}, 400, IPV,
         "Invalid clause(s) in filter string: OR", None),
        ("exps-filter-dangling", "POST", "experiments/search", {"max_results": 10, "filter": "name = "}, 400, IPV,
         "Invalid clause(s) in filter string: name, =", None),
        ("exps-filter-unknown-attribute", "POST", "experiments/search", {"max_results": 10, "filter": "attribute.foo = 'a'"}, 400, IPV,
         None, "Invalid attribute key 'foo' specified. Valid keys are "),
        ("exps-filter-unknown-entity", "POST", "experiments/search", {"max_results": 10, "filter": "metric.foo = 1"}, 400, IPV,
         "Invalid entity type 'metric'. Valid entity types are ('attribute', 'tag', 'tags')", None),
        ("exps-order-by-unknown", "POST", "experiments/search", {"max_results": 10, "order_by": ["foo DESC"]}, 400, IPV,
         None, "Invalid attribute key 'foo' specified. Valid keys are "),
        ("exps-max-results-too-big", "POST", "experiments/search", {"max_results": 50001}, 400, IPV,
         "Invalid value 50001 for parameter 'max_results' supplied. It must be at most 50000", None),
        ("exps-bad-page-token", "POST", "experiments/search", {"max_results": 10, "page_token": "garbage"}, 400, IPV,
         "Invalid page token, could not base64-decode", None),
        # --- metric history
        ("history-max-results-zero", "GET", "metrics/get-history", {"run_id": R, "metric_key": "m", "max_results": "0"}, 400, IPV,
         "Invalid value 0 for parameter 'max_results' supplied. It must be a positive integer.", None),
        ("history-bad-page-token", "GET", "metrics/get-history", {"run_id": R, "metric_key": "m", "page_token": "zzz"}, 400, IPV,
         "Invalid page token, could not base64-decode", None),
        ("bulk-interval-too-many-runs", "GET", "metrics/get-history-bulk-interval", {"metric_key": "m", "run_ids": ["a"] * 101}, 400, IPV,
         f"GetMetricHistoryBulkInterval request must specify at most 100 run_ids. Received 101 run_ids.{HINT}", None),
        ("bulk-interval-max-results-zero", "GET", "metrics/get-history-bulk-interval", {"metric_key": "m", "run_ids": [R], "max_results": "0"},
         400, IPV, f"max_results must be between 1 and 2500.{HINT}", None),
    ]


def _fill(v, ctx):
    if isinstance(v, str):
        return v.replace("{run}", ctx["run"]).replace("{exp}", ctx["exp"])
    if isinstance(v, dict):
        return {k: _fill(x, ctx) for k, x in v.items()}
    if isinstance(v, list):
        return [_fill(x, ctx) for x in v]
    return v


def send(server, method, path, body):
    if isinstance(body, str):
        kind, _, raw = body.partition(":")
        headers = {
            "raw": {"Content-Type": "application/json"},
            "nocontenttype": {},
            "textplain": {"Content-Type": "text/plain"},
        }[kind]
        # requests adds no Content-Type for bytes bodies
        return server.http.post(server.api_url(path), data=raw.encode(), headers=headers, timeout=60)
    if method == "GET":
        return server.get(path, params=body)
    return server.post(path, body)


@pytest.mark.parametrize(
    "method,path,body,status,code,message,prefix",
    [pytest.param(*c[1:], id=c[0]) for c in _cases()],
)
def test_bad_input(server, ctx, method, path, body, status, code, message, prefix):
    r = send(server, method, path, _fill(body, ctx))
    assert_error(r, status, code, _fill(message, ctx) if message else None, message_prefix=prefix)


def test_error_content_type_is_json(server):
    r = server.get("experiments/get", {"experiment_id": "999999"})
    assert r.headers.get("Content-Type", "").startswith("application/json"), describe(r)


def test_duplicate_experiment(server):
    name = unique("dup")
    server.create_experiment(name)
    r = server.post("experiments/create", {"name": name})
    assert_error(r, 400, "RESOURCE_ALREADY_EXISTS", message_prefix=f"Experiment(name={name}) already exists.")


def test_duplicate_name_of_deleted_experiment(server):
    name = unique("dupdel")
    exp = server.create_experiment(name)
    assert server.post("experiments/delete", {"experiment_id": exp}).status_code == 200
    r = server.post("experiments/create", {"name": name})
    assert_error(r, 400, "RESOURCE_ALREADY_EXISTS", message_prefix=f"Experiment(name={name}) already exists.")


def test_changing_a_param_is_rejected(server, ctx):
    run = ctx["run"]
    key = unique("p")
    assert server.post("runs/log-parameter", {"run_id": run, "key": key, "value": "a"}).status_code == 200
    # the same value again is fine
    r = server.post("runs/log-parameter", {"run_id": run, "key": key, "value": "a"})
    assert r.status_code == 200, describe(r)
    r = server.post("runs/log-parameter", {"run_id": run, "key": key, "value": "b"})
    assert_error(
        r, 400, IPV,
        f"Changing param values is not allowed. Param with key='{key}' was already logged with "
        f"value='a' for run ID='{run}'. Attempted logging new value 'b'.",
    )
    r = server.post("runs/log-batch", {"run_id": run, "params": [{"key": key, "value": "zz"}]})
    assert_error(
        r, 400, IPV,
        f"Changing param values is not allowed. Params were already logged="
        f"'[{{'key': '{key}', 'old_value': 'a', 'new_value': 'zz'}}]' for run ID='{run}'.",
    )


def test_logging_to_a_deleted_run(server):
    exp = server.create_experiment()
    run = server.create_run(exp)["info"]["run_id"]
    assert server.post("runs/delete", {"run_id": run}).status_code == 200
    msg = f"The run {run} must be in the 'active' state. Current state is deleted."
    assert_error(server.post("runs/log-metric", {"run_id": run, "key": "m", "value": 1.0, "timestamp": 1}), 400, IPV, msg)
    batch = {"run_id": run, "metrics": [{"key": "m", "value": 1.0, "timestamp": 1, "step": s} for s in range(3)]}
    assert_error(server.post("runs/log-batch", batch), 400, IPV, msg)
    assert_error(server.post("runs/log-parameter", {"run_id": run, "key": "p", "value": "v"}), 400, IPV, msg)
    assert_error(server.post("runs/set-tag", {"run_id": run, "key": "t", "value": "v"}), 400, IPV, msg)
    assert_error(server.post("runs/update", {"run_id": run, "status": "FINISHED"}), 400, IPV, msg)
    # still readable, as deleted
    r = server.get("runs/get", {"run_id": run})
    assert r.status_code == 200, describe(r)
    assert r.json()["run"]["info"]["lifecycle_stage"] == "deleted"


def test_creating_a_run_in_a_deleted_experiment(server):
    exp = server.create_experiment()
    assert server.post("experiments/delete", {"experiment_id": exp}).status_code == 200
    r = server.post("runs/create", {"experiment_id": exp})
    assert_error(r, 400, IPV, f"The experiment {exp} must be in the 'active' state. Current state is deleted.")


@pytest.mark.stricter
def test_renaming_a_deleted_experiment_is_a_client_error(server):
    # MLflow answers 500 INVALID_STATE "Cannot rename a non-active experiment."; the client would
    # retry a 500, so Pitwall keeps the code and message with a 4xx.
    exp = server.create_experiment()
    assert server.post("experiments/delete", {"experiment_id": exp}).status_code == 200
    r = server.post("experiments/update", {"experiment_id": exp, "new_name": unique("z")})
    assert 400 <= r.status_code < 500, describe(r)
    assert r.json().get("message") == "Cannot rename a non-active experiment.", describe(r)


@pytest.mark.stricter
@pytest.mark.parametrize("raw", ["[1,2", "[1, 2]", '"just a string"', "123", "null", "{\"name\": \"x\"", "\x00\xff"])
def test_non_object_json_is_a_client_error(server, raw):
    # MLflow answers some of these with an HTML 500; Pitwall must say 400 with a JSON error.
    for path in ("experiments/create", "runs/log-batch", "runs/search", "runs/log-metric"):
        r = server.http.post(server.api_url(path), data=raw.encode("latin-1"),
                             headers={"Content-Type": "application/json"}, timeout=60)
        assert 400 <= r.status_code < 500, describe(r)
        assert r.json().get("error_code") in (IPV, "BAD_REQUEST", "MALFORMED_REQUEST"), describe(r)


@pytest.mark.stricter
@pytest.mark.parametrize(
    "body",
    [
        {"run_id": "{run}", "metrics": [{"key": "m", "value": "abc", "timestamp": 1}]},
        {"run_id": "{run}", "metrics": [{"key": "m", "value": 1, "timestamp": "soon"}]},
        {"run_id": "{run}", "params": [{"key": "p", "value": {"nested": 1}}]},
        {"run_id": 12345},
        {"run_id": "{run}", "tags": [{"key": ["k"], "value": "v"}]},
    ],
    ids=["metric-value-str", "metric-timestamp-str", "param-value-object", "run-id-int", "tag-key-list"],
)
def test_wrong_types_in_log_batch_are_client_errors(server, ctx, body):
    r = server.post("runs/log-batch", _fill(body, ctx))
    assert 400 <= r.status_code < 500, describe(r)
    assert r.json().get("error_code") == IPV, describe(r)


@pytest.mark.parametrize(
    "method,path,body",
    [
        # Python's json cannot write 1e400, so the body is sent as text.
        pytest.param("POST", "runs/log-metric", 'raw:{"run_id": "{run}", "key": "m", "value": 1e400, "timestamp": 1}',
                     marks=pytest.mark.stricter),
        ("POST", "runs/log-metric", {"run_id": "{run}", "key": "m", "value": 1.0, "timestamp": 2**70}),
        ("POST", "runs/log-metric", {"run_id": "{run}", "key": "m", "value": 1.0, "timestamp": 1, "step": -(2**70)}),
        pytest.param("POST", "runs/create", {"experiment_id": "99999999999999999999999"}, marks=pytest.mark.stricter),
        pytest.param("GET", "experiments/get", {"experiment_id": "99999999999999999999999"}, marks=pytest.mark.stricter),
        ("GET", "runs/get", {"run_id": "x" * 5000}),
        ("GET", "runs/get", {"run_id": "../../etc/passwd"}),
        ("POST", "runs/search", {"experiment_ids": ["{exp}"], "filter": "params.`a` = '" + "x" * 10000 + "'"}),
        ("POST", "runs/search", {"experiment_ids": ["{exp}"], "filter": "(" * 500}),
        ("POST", "runs/search", {"experiment_ids": ["{exp}"], "filter": "metrics.m > 1e999"}),
        ("POST", "runs/search", {"experiment_ids": ["{exp}"], "order_by": ["metrics.`m"]}),
        ("POST", "runs/search", {"experiment_ids": ["{exp}"], "max_results": -1}),
        ("POST", "experiments/search", {"max_results": -1}),
        ("POST", "runs/log-batch", {"run_id": "{run}", "tags": [{"key": "big", "value": "x" * 1_000_001}]}),
        ("POST", "runs/log-parameter", {"run_id": "{run}", "key": "uni\u00e9", "value": "\u2603" * 7000}),
        ("POST", "experiments/create", {"name": "\u0000"}),
    ],
    ids=[
        "metric-value-overflow", "timestamp-overflow", "step-overflow", "exp-id-overflow-create",
        "exp-id-overflow-get", "run-id-huge", "run-id-path", "filter-huge-value", "filter-parens",
        "filter-huge-number", "order-by-unclosed-backtick", "runs-negative-max", "exps-negative-max",
        "batch-over-1mb", "unicode-param", "exp-name-nul",
    ],
)
def test_never_a_server_error(server, ctx, method, path, body):
    """Hostile input may be accepted or refused, but never with a 5xx (the client retries those)."""
    r = send(server, method, path, _fill(body, ctx))
    assert r.status_code < 500, describe(r)
    if r.status_code >= 400:
        assert r.json().get("error_code"), describe(r)


def test_unknown_endpoint_is_404(server):
    r = server.get("runs/no-such-endpoint")
    assert r.status_code == 404, describe(r)


def test_wrong_method_is_405(server):
    r = server.get("runs/create")
    assert r.status_code == 405, describe(r)


def test_get_history_of_unknown_run_is_empty(server):
    # MLflow answers an empty history, not an error
    r = server.get("metrics/get-history", {"run_id": NO_RUN, "metric_key": "m"})
    assert r.status_code == 200, describe(r)
    assert r.json() == {}, describe(r)


def test_search_runs_in_unknown_experiment_is_empty(server):
    r = server.post("runs/search", {"experiment_ids": ["999999"]})
    assert r.status_code == 200, describe(r)
    assert r.json() == {}, describe(r)
