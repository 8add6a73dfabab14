/**
 * A service main in miniature, for service-bootstrap.spec: a Nest app with a shutdown hook, started through runService.
 * Prints `ready` once started and `closed <signal>` from the hook.
 */
import 'reflect-metadata';
import { Module, OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { runService } from '../src/service-bootstrap';

class ShutdownProbe implements OnApplicationShutdown {
  // Stands for the server and consumers that keep a real service's process alive until it is closed.
  private readonly alive = setInterval(() => undefined, 60_000);

  onApplicationShutdown(): void {
    clearInterval(this.alive);
    process.stdout.write('closed\n');
  }
}

@Module({ providers: [ShutdownProbe] })
class FixtureModule {}

runService('fixture', async () => {
  const app = await NestFactory.createApplicationContext(FixtureModule, { logger: false });
  process.stdout.write('ready\n');
  return app;
});
