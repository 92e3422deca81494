import { isPortFree } from './process';

export class PortInUse extends Error {
  override name = 'PortInUse';
}

/** Each port free, or an error naming it, what wanted it, and the variable that moves it. */
export async function checkPorts(ports: Record<string, [number, string]>): Promise<void> {
  for (const [what, [port, envVar]] of Object.entries(ports)) {
    if (!(await isPortFree(port))) {
      throw new PortInUse(
        `port ${port} (${what}) is already in use by another program: stop it, or set ${envVar} to another port.`,
      );
    }
  }
}
