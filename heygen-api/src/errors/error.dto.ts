import { ApiProperty } from '@nestjs/swagger';

/** The JSON body of every error (ApiExceptionFilter writes it), described for the OpenAPI document. */
export class ErrorDto {
  @ApiProperty({ example: 404 }) statusCode!: number;
  @ApiProperty({ example: 'Not Found' }) error!: string;
  @ApiProperty({ example: 'JOB_NOT_FOUND' }) code!: string;
  @ApiProperty({ example: 'Job 17 not found' }) message!: string;
}
