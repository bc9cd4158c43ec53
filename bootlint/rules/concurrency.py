"""BL7xx rules about runtimes that serve several invocations at once (Lambda Managed Instances),
written against :mod:`bootlint.model.concurrency`."""

from __future__ import annotations

from typing import Iterator

from bootlint.diagnostics import Related, Violation
from bootlint.model import Endpoint
from bootlint.model.concurrency import Concurrency, CountSource
from bootlint.rules.registry import rule
from bootlint.rules.subject import Subject

MANAGED_INSTANCES = "managed-instances"


def _facts(subject: Subject) -> Concurrency:
    return subject.model.concurrency or Concurrency()


@rule("BL701", "worker-count-not-from-max-concurrency", "warning",
      "The number of workers is hard-coded or unbounded instead of AWS_LAMBDA_MAX_CONCURRENCY.")
def worker_count_not_from_max_concurrency(subject: Subject) -> Iterator[Violation]:
    how = subject.idioms.worker_count
    for worker in _facts(subject).workers:
        count = worker.count
        span = count.span or worker.span
        if count.source is CountSource.LITERAL:
            what = f"the number of workers is hard-coded (`{count.text}`)"
        elif count.source is CountSource.UNBOUNDED:
            what = f"workers are started without bound (`{count.text}`)"
        elif count.source is CountSource.OTHER:
            what = f"the number of workers comes from `{count.text}`, not from AWS_LAMBDA_MAX_CONCURRENCY"
        elif count.source is CountSource.VARIABLE_NO_DEFAULT:
            default = (f"defaults to {count.default}" if count.default is not None
                       else "has no default")
            yield Violation(span, (
                f"the number of workers is AWS_LAMBDA_MAX_CONCURRENCY but `{count.text}` {default}: "
                f"Lambda sets the variable only on Managed Instances, and unset (or invalid) it means "
                f"one invocation at a time, so the default must be 1; start {how}"))
            continue
        else:
            continue
        yield Violation(span, (
            f"{what}: Lambda sends an environment up to AWS_LAMBDA_MAX_CONCURRENCY invocations at "
            f"once (only on Managed Instances; one at a time where it is unset), so more workers "
            f"poll for invocations that never come and fewer leave paid capacity idle; start {how}"))


@rule("BL702", "shared-temp-path-across-workers", "error",
      "Concurrent workers write one fixed path: one invocation reads another's data.")
def shared_temp_path_across_workers(subject: Subject) -> Iterator[Violation]:
    facts = _facts(subject)
    if not facts.workers:
        return
    fix = subject.idioms.per_worker_path
    for write in facts.shared_writes:
        why = f" ({write.why})" if write.why and write.why != "a fixed path" else ""
        yield Violation(write.span, (
            f"every worker writes `{write.path}`{why}: workers serve invocations at the same time, "
            f"so one reads the headers, request id or body another invocation wrote there and posts "
            f"its answer to the wrong request; {fix}"),
            related=(Related(facts.workers[0].span, "the workers are started here"),))


@rule("BL703", "process-wide-trace-id", "warning",
      "Threads or async tasks of one process set the process-wide _X_AMZN_TRACE_ID.",
      needs=frozenset({"shared-memory-workers"}))
def process_wide_trace_id(subject: Subject) -> Iterator[Violation]:
    facts = _facts(subject)
    for write in facts.trace_writes:
        if not write.kind.shares_process:
            continue
        yield Violation(write.span, (
            f"_X_AMZN_TRACE_ID is set here by {write.kind.value} workers of one process: the "
            f"environment is the process's, so concurrent invocations overwrite each other's trace "
            f"id and X-Ray joins segments to the wrong trace; "
            f"{subject.idioms.trace_per_invocation}"))


@rule("BL704", "parent-exits-while-workers-run", "error",
      "The process Lambda started can end while workers are serving.")
def parent_exits_while_workers_run(subject: Subject) -> Iterator[Violation]:
    facts = _facts(subject)
    for end in facts.parent_ends:
        yield Violation(end.span, (
            f"{end.reason}: when the process Lambda started ends, Lambda fails every invocation in "
            f"flight with Runtime.ExitError and tears the environment down; "
            f"{subject.idioms.wait_workers}"))


@rule("BL705", "deadline-not-enforced", "info",
      "Workers never read Lambda-Runtime-Deadline-Ms: a timed-out invocation keeps its worker.",
      opt_in=True)
def deadline_not_enforced(subject: Subject) -> Iterator[Violation]:
    facts = _facts(subject)
    if not facts.workers or facts.deadline_read:
        return
    yield Violation(facts.workers[0].span, (
        "the workers never read the Lambda-Runtime-Deadline-Ms header: on Managed Instances a "
        "timed-out invocation is not stopped, so a handler that hangs keeps its worker for good and "
        "the environment serves one invocation fewer; stop the handler at the deadline"))


@rule("BL706", "single-worker-on-managed-instances", "info",
      "Configured for Managed Instances, the runtime serves one invocation at a time.")
def single_worker_on_managed_instances(subject: Subject) -> Iterator[Violation]:
    if subject.target != MANAGED_INSTANCES or _facts(subject).workers:
        return
    nexts = subject.model.api_calls(Endpoint.NEXT)
    if not nexts:
        return
    yield Violation(nexts[0].span, (
        "the configuration says this function runs on Lambda Managed Instances, but the runtime "
        "has one worker, which serves one invocation at a time: it works, at "
        "1/AWS_LAMBDA_MAX_CONCURRENCY of the capacity paid for; start AWS_LAMBDA_MAX_CONCURRENCY "
        f"workers, each looping on `next`: {subject.idioms.worker_count}"))
