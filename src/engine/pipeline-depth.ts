/**
 * Jobs a worker holds at once when many small ones run (a directory run's pools, the warm
 * worker's callers): the second waits in the worker and starts the moment the first one's
 * answer is out. A module of its own: the warm worker client must load without the pool.
 */
export const PIPELINE_DEPTH = 2;
