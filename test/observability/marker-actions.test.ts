// Markers as the server bills them: one action per workflow task that records any (BatchMarkers),
// however many patches it marks; a local activity's marker is its own kind.
import { countActions } from '../../observability/actions';

type Events = Parameters<typeof countActions>[0];

const marker = (eventId: number, markerName: string, workflowTaskCompletedEventId: number) => ({
  eventId,
  markerRecordedEventAttributes: { markerName, workflowTaskCompletedEventId },
});

test("a workflow task's patch markers are one action, another task's one more", () => {
  const counted = countActions([
    { eventId: 1, workflowExecutionStartedEventAttributes: {} },
    marker(5, 'core_patch', 4),
    marker(6, 'core_patch', 4),
    marker(10, 'core_patch', 9),
    marker(11, 'core_local_activity', 9),
  ] as unknown as Events);
  expect(counted.byKind).toEqual({ start: 1, marker: 2, 'local-activity': 1 });
  expect(counted.total).toBe(4);
});

test('generations read one after the other (ct cost over a continued-as-new chain): each run’s marker tasks count, their event ids start again at 1', () => {
  const generation = () => [{ eventId: 1, workflowExecutionStartedEventAttributes: {} }, marker(5, 'core_patch', 4)];
  const counted = countActions([...generation(), ...generation(), ...generation()] as unknown as Events);
  expect(counted.byKind).toEqual({ start: 3, marker: 3 });
});
