import type { ArchEvent, DoneEvent, EpochEvent, ErrorEvent, RunEvent, RunKind, StartEvent, StepEvent, ValidationEvent } from '@autodeeplab/optim';

/** Where the run stands, as its events tell. */
export type RunStatus =
  | { state: 'finished' }
  | { state: 'interrupted' }
  | { state: 'failed'; message: string }
  /** No final event yet: still going, or killed (a resume continues it). */
  | { state: 'running' };

/** A run's events sorted by what they are, one per step / epoch (the latest wins, as after a resume). */
export interface RunHistory {
  kind: RunKind;
  start: StartEvent;
  steps: StepEvent[];
  epochs: EpochEvent[];
  validations: ValidationEvent[];
  arch: ArchEvent[];
  status: RunStatus;
  /** The step reached: the last step event's, else the resume point's. */
  stepsDone: number;
  lastEventTime: string;
}

function latestBy<E>(events: E[], key: (event: E) => number): E[] {
  const byKey = new Map<number, E>();
  for (const event of events) byKey.set(key(event), event);
  return [...byKey.values()].sort((a, b) => key(a) - key(b));
}

function statusOf(events: RunEvent[]): RunStatus {
  // Only what follows the last start counts: an earlier run's end was continued by a resume.
  let lastStart = -1;
  events.forEach((e, i) => (e.type === 'start' ? (lastStart = i) : undefined));
  const tail = events.slice(lastStart + 1);
  const done = tail.findLast((e): e is DoneEvent => e.type === 'done');
  if (done) return { state: done.interrupted ? 'interrupted' : 'finished' };
  const error = tail.findLast((e): e is ErrorEvent => e.type === 'error');
  if (error) return { state: 'failed', message: error.message };
  return { state: 'running' };
}

/** Sorts a run's events into the series a report draws. `events` holds at least one start event. */
export function runHistory(events: RunEvent[]): RunHistory {
  const start = events.findLast((e): e is StartEvent => e.type === 'start')!;
  const steps = latestBy(
    events.filter((e): e is StepEvent => e.type === 'step'),
    (e) => e.step,
  );
  return {
    kind: start.kind,
    start,
    steps,
    epochs: latestBy(
      events.filter((e): e is EpochEvent => e.type === 'epoch'),
      (e) => e.epoch,
    ),
    validations: latestBy(
      events.filter((e): e is ValidationEvent => e.type === 'validation'),
      (e) => e.epoch,
    ),
    arch: latestBy(
      events.filter((e): e is ArchEvent => e.type === 'arch'),
      (e) => e.epoch,
    ),
    status: statusOf(events),
    stepsDone: steps.at(-1)?.step ?? start.resumedFrom?.step ?? 0,
    lastEventTime: events.at(-1)!.time,
  };
}
